"""Access reviews: the quarterly task, the snapshot and its flags, confirm and
revoke with their effects, signing, and the evidence pack's verification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_for_user
from accounts.choices import ReviewDecision, ReviewStatus
from accounts.models import AccessReview, AccessReviewItem, ApiClient
from audit.access_reviews import access_review_create
from audit.accounts import api_client_revoke
from audit.models import AuditEvent
from audit.tasks import access_review_due_task
from evidence.packs.verify import evidence_pack_verify

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def officer_client(officer: User) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def decide_url(review: AccessReview, item: AccessReviewItem, decision: str) -> str:
    return reverse(
        "dashboard:access_review_decide",
        args=[review.public_id, item.public_id, decision],
    )


def test_the_task_opens_a_review_each_interval(
    officer: User, agent: User, settings: Any
) -> None:
    assert access_review_due_task() == "created"
    assert access_review_due_task() == "not-due"
    assert AccessReview.objects.count() == 1

    later = timezone.now() + timedelta(days=settings.ACCESS_REVIEW_INTERVAL_DAYS)
    with time_machine.travel(later):
        assert access_review_due_task() == "created"
    assert AccessReview.objects.count() == 2
    started = AuditEvent.objects.filter(action="access_review.started")
    assert started.count() == 2
    assert started.first().actor == "system:access-review-schedule"  # type: ignore[union-attr]


def test_a_review_lists_staff_and_live_clients_and_flags_unused_ones(
    officer: User,
    agent: User,
    auditor: User,
    make_api_client: Callable[..., Any],
    settings: Any,
) -> None:
    # given clients used recently, long ago, never (but new), and one revoked
    fresh, _ = make_api_client("requests:read")
    stale, _ = make_api_client("consent:check", "requests:read")
    new, _ = make_api_client("audit:read")
    gone, _ = make_api_client("audit:read")
    long_ago = timezone.now() - timedelta(days=settings.ACCESS_REVIEW_UNUSED_DAYS + 1)
    ApiClient.objects.filter(pk=fresh.pk).update(last_used_at=timezone.now())
    ApiClient.objects.filter(pk=stale.pk).update(last_used_at=long_ago)
    api_client_revoke(actor=actor_for_user(officer), client=gone)
    User.objects.filter(pk=agent.pk).update(last_login=long_ago)
    customer = User.objects.create_user(username="not.staff", password=PASSWORD)

    # when a review starts
    review = access_review_create(actor=actor_for_user(officer))

    # then every staff member and live client is in it, with its facts
    items = {item.name: item for item in review.items.all()}
    assert set(items) == {
        officer.username,
        agent.username,
        auditor.username,
        fresh.name,
        stale.name,
        new.name,
    }
    assert customer.username not in items
    assert items[agent.username].role == "support_agent"
    assert items[agent.username].unused
    assert not items[officer.username].unused
    assert items[officer.username].mfa_enabled is False
    assert items[stale.name].unused
    assert items[stale.name].scopes == ["consent:check", "requests:read"]
    assert not items[fresh.name].unused
    assert not items[new.name].unused  # created today: not yet unused
    assert all(item.decision == ReviewDecision.PENDING for item in items.values())
    event = AuditEvent.objects.get(action="access_review.started")
    assert event.data["staff"] == 3
    assert event.data["api_clients"] == 3
    assert set(event.data["unused"]) == {
        str(items[agent.username].public_id),
        str(items[stale.name].public_id),
    }


def test_revoking_deactivates_staff_and_ends_their_sessions(
    officer_client: Client, officer: User, agent: User
) -> None:
    agent_browser = Client()
    agent_browser.post(
        reverse("dashboard:login"), {"username": agent.username, "password": PASSWORD}
    )
    assert agent_browser.get(reverse("dashboard:queue")).status_code == 200
    review = access_review_create(actor=actor_for_user(officer))
    item = review.items.get(user=agent)

    officer_client.post(decide_url(review, item, "revoke"), {"note": "left the team"})

    item.refresh_from_db()
    assert item.decision == ReviewDecision.REVOKED
    assert item.note == "left the team"
    assert item.decided_by == officer
    agent.refresh_from_db()
    assert not agent.is_active
    assert agent_browser.get(reverse("dashboard:queue")).status_code == 302
    assert AuditEvent.objects.filter(
        action="staff.deactivated", object_id=str(agent.pk)
    ).exists()


def test_revoking_a_client_revokes_its_token(
    officer_client: Client, officer: User, make_api_client: Callable[..., Any]
) -> None:
    client, api = make_api_client("requests:read")
    assert api.get("/api/v1/requests/").status_code == 200
    review = access_review_create(actor=actor_for_user(officer))
    item = review.items.get(client=client)

    officer_client.post(decide_url(review, item, "revoke"))

    client.refresh_from_db()
    assert client.revoked_at is not None
    assert api.get("/api/v1/requests/").status_code == 401
    assert AuditEvent.objects.filter(
        action="api_client.revoked", object_id=str(client.public_id)
    ).exists()


def test_confirming_changes_nothing_but_the_item_and_is_final(
    officer_client: Client, officer: User, make_api_client: Callable[..., Any]
) -> None:
    client, _ = make_api_client("requests:read")
    review = access_review_create(actor=actor_for_user(officer))
    item = review.items.get(client=client)

    officer_client.post(decide_url(review, item, "confirm"))
    response = officer_client.post(decide_url(review, item, "revoke"), follow=True)

    item.refresh_from_db()
    client.refresh_from_db()
    assert item.decision == ReviewDecision.CONFIRMED
    assert client.revoked_at is None
    assert "decided already" in response.content.decode()
    assert AuditEvent.objects.filter(action="access_review.decided").count() == 1


def test_an_officer_cannot_revoke_themselves(
    officer_client: Client, officer: User
) -> None:
    review = access_review_create(actor=actor_for_user(officer))
    item = review.items.get(user=officer)

    response = officer_client.post(decide_url(review, item, "revoke"), follow=True)

    item.refresh_from_db()
    officer.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING
    assert officer.is_active
    assert "cannot revoke your own access" in response.content.decode()


def test_an_auditor_sees_reviews_but_may_not_decide_or_start_one(
    officer: User, auditor: User
) -> None:
    review = access_review_create(actor=actor_for_user(officer))
    item = review.items.get(user=officer)
    browser = Client()
    browser.force_login(auditor)

    assert browser.get(reverse("dashboard:access_reviews")).status_code == 200
    detail = browser.get(
        reverse("dashboard:access_review_detail", args=[review.public_id])
    )
    assert detail.status_code == 200
    assert b"Sign review" not in detail.content
    assert browser.post(decide_url(review, item, "confirm")).status_code == 403
    assert browser.post(reverse("dashboard:access_reviews")).status_code == 403
    item.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING
    assert AccessReview.objects.count() == 1


def test_signing_needs_every_decision_then_seals_them_and_exports_verifiable_evidence(
    officer_client: Client,
    officer: User,
    agent: User,
    make_api_client: Callable[..., Any],
) -> None:
    make_api_client("requests:read")
    review = access_review_create(actor=actor_for_user(officer))
    sign = reverse("dashboard:access_review_sign", args=[review.public_id])
    statement = {"statement": "Reviewed every account.", "confirm": "on"}

    # with items pending the signature is refused, naming why
    refused = officer_client.post(sign, statement)
    assert refused.status_code == 400
    assert "still to confirm or revoke" in refused.content.decode()
    assert AccessReview.objects.get(pk=review.pk).status == ReviewStatus.OPEN

    for item in review.items.all():
        decision = "revoke" if item.user_id == agent.pk else "confirm"
        officer_client.post(decide_url(review, item, decision))
    signed = officer_client.post(sign, statement)
    assert signed.status_code == 302

    review.refresh_from_db()
    assert review.status == ReviewStatus.SIGNED
    assert review.signed_by == officer
    assert len(review.signed_digest) == 64
    event = AuditEvent.objects.get(action="access_review.signed")
    assert event.data["digest"] == review.signed_digest
    assert event.data["revoked"] == 1
    # signed decisions are final
    item = review.items.first()
    assert item is not None
    late = officer_client.post(decide_url(review, item, "revoke"), follow=True)
    assert "signed" in late.content.decode()

    # the evidence pack verifies against the chain, and a changed byte does not
    pdf = officer_client.get(
        reverse("dashboard:access_review_evidence_pdf", args=[review.public_id])
    )
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    report = evidence_pack_verify(content=pdf.content)
    assert report.ok, report.problems
    assert report.subject == f"access review {review.public_id}"
    changed = evidence_pack_verify(content=pdf.content + b"\n")
    assert not changed.ok
    assert "not recorded in the audit chain" in " ".join(changed.problems)
