"""Dashboard consent pages: purposes and wording, rates chart, subject history,
withdrawals sent to stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.agent_tokens import agent_token_create
from connectors.models import Connector
from consent.models import (
    ConsentEvent,
    ConsentPropagation,
    ConsentState,
    PolicyVersion,
)
from consent.seed import seed_purposes
from consent.services.events import consent_set
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create

EMAIL = "ada@example.com"
PURPOSES = reverse("dashboard:consent_purposes")


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()


@pytest.fixture
def ada(db: Any) -> Any:
    subject = subject_get_or_create(claims=identity_claims({"email": EMAIL}))
    tester = actor_system("tests")
    for slug, granted in [
        ("ai_training", True),
        ("ai_training", False),
        ("analytics", True),
    ]:
        consent_set(
            actor=tester, subject=subject, purpose=slug, granted=granted, channel="api"
        )
    return subject


def publish(client: Any, slug: str = "ai_training", **data: str) -> Any:
    fields = {"version": "2027-01", "text": "New plain wording.", "material": "on"}
    fields.update(data)
    return client.post(
        reverse("dashboard:consent_policy_publish", args=[slug]),
        {f"{slug}-{key}": value for key, value in fields.items()},
    )


def test_officer_sees_purposes_versions_and_an_svg_chart(officer_client, ada):
    response = officer_client.get(PURPOSES)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{PURPOSES}"' in body
    assert "Using conversations to train AI models" in body
    assert "<svg" in body
    assert 'data-purpose="ai_training"' in body
    assert "<circle" in body  # today's choices are drawn
    assert "1 grant, 1 withdrawal" in body
    assert "<script" not in body.split("<main")[1]  # no chart library
    assert "Publish a new version" in body


def test_officer_publishes_a_material_version(officer_client, ada):
    ConsentState.objects.filter(purpose__slug="analytics").update(state="granted")
    response = publish(officer_client, "analytics")
    assert response.status_code == 302
    version = PolicyVersion.objects.get(purpose__slug="analytics", version="2027-01")
    assert version.material
    assert version.text == "New plain wording."
    state = ConsentState.objects.get(subject=ada, purpose__slug="analytics")
    assert state.state == "needs_renewal"


def test_publish_errors_are_shown_on_the_form(officer_client, ada):
    response = publish(officer_client, version="no spaces allowed")
    assert response.status_code == 400
    assert "a short label such as 2026-10" in response.content.decode()


def test_auditor_reads_but_cannot_publish(auditor_client, ada):
    page = auditor_client.get(PURPOSES)
    assert page.status_code == 200
    assert "Publish a new version" not in page.content.decode()
    before = PolicyVersion.objects.count()
    response = publish(auditor_client)
    assert response.status_code == 403
    assert PolicyVersion.objects.count() == before


def test_agent_views_consent_but_cannot_publish(agent_client, ada):
    assert agent_client.get(PURPOSES).status_code == 200
    before = PolicyVersion.objects.count()
    assert publish(agent_client).status_code == 403
    assert PolicyVersion.objects.count() == before


def test_no_role_gets_403(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(PURPOSES).status_code == 403


def test_nav_shows_consent_to_staff_who_may_view(officer_client, auditor_client, db):
    for http in (officer_client, auditor_client):
        body = http.get(reverse("dashboard:audit_log")).content.decode()
        assert f'href="{PURPOSES}"' in body


@pytest.mark.parametrize("who", ["officer_client", "auditor_client", "agent_client"])
def test_subject_history_found_by_email(request, who, ada):
    http = request.getfixturevalue(who)
    search = reverse("dashboard:consent_subject_search")
    assert http.get(search).status_code == 200
    response = http.post(search, {"email": EMAIL.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "dashboard:consent_subject", args=[ada.public_id]
    )
    page = http.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert EMAIL not in body
    assert body.count("<td>ai_training</td>") == 2  # both events, newest first
    assert "Withdrawn" in body


def test_unknown_email_says_so(officer_client, db):
    response = officer_client.post(
        reverse("dashboard:consent_subject_search"), {"email": "nobody@example.com"}
    )
    assert response.status_code == 404
    assert "No customer with that e-mail address" in response.content.decode()


# --- withdrawals sent to stores ---------------------------------------------------

PROPAGATIONS = reverse("dashboard:consent_propagations")


@pytest.fixture
def sent(ada: Any) -> dict[str, ConsentPropagation]:
    """One withdrawal in each state staff must tell apart, keyed by what it shows."""
    event = ConsentEvent.objects.filter(subject=ada, action="withdraw").get()
    purpose = event.purpose
    now = timezone.now()

    def store(name: str, kind: str) -> Connector:
        return Connector.objects.create(name=name, kind=kind)

    agent, _ = agent_token_create(
        actor=actor_system("tests"), connector=store("crm-agent", "pull")
    )
    rows = {
        "agent": ConsentPropagation(
            connector=store("helpdesk-agent", "pull"), status="waiting"
        ),
        "claimed": ConsentPropagation(
            connector=agent.connector,
            status="waiting",
            attempts=2,
            lease_owner=str(agent.public_id),
            lease_expires_at=now + timedelta(minutes=4),
        ),
        "callback": ConsentPropagation(
            connector=store("crm-webhook", "http"),
            status="waiting",
            attempts=1,
            deferred_reference="crm-job-77",
            status_note="crm-webhook accepted the job; waiting for its callback",
        ),
        "retrying": ConsentPropagation(
            connector=store("shop-webhook", "http"),
            status="pending",
            attempts=1,
            last_error="webhook of shop-webhook answered HTTP 503",
            next_attempt_at=now + timedelta(seconds=30),
        ),
        "failed": ConsentPropagation(
            connector=store("training-db", "sql"),
            status="failed",
            attempts=5,
            last_error="no such table: training_examples",
        ),
        "unsupported": ConsentPropagation(
            connector=store("by-hand", "manual"),
            status="unsupported",
            attempts=1,
            last_error="propagating withdrawals to manual connectors is not "
            "supported yet; apply it in that system by hand",
        ),
        "done": ConsentPropagation(
            connector=store("crm-db", "sql"),
            status="succeeded",
            attempts=1,
            records_changed=4,
            finished_at=now,
        ),
    }
    for row in rows.values():
        row.event, row.purpose = event, purpose
        row.save()
    return rows


def _row(body: str, propagation: ConsentPropagation) -> str:
    start = body.index(f'id="propagation-{propagation.public_id}"')
    return body[start : body.index("</tr>", start)]


def test_propagation_list_says_who_each_withdrawal_waits_for(officer_client, sent):
    response = officer_client.get(PROPAGATIONS)

    assert response.status_code == 200
    body = response.content.decode()
    assert EMAIL not in body
    assert "Waiting for an agent" in _row(body, sent["agent"])
    assert "/api/v1/agent/consent-jobs/" in _row(body, sent["agent"])
    claimed = _row(body, sent["claimed"])
    assert "Claimed by an agent" in claimed
    assert "API: agent-crm-agent-1 holds it until" in claimed
    callback = _row(body, sent["callback"])
    assert "Waiting for the callback" in callback
    assert "crm-job-77" in callback
    retrying = _row(body, sent["retrying"])
    assert "Retrying" in retrying
    assert "HTTP 503" in retrying
    assert "no such table" in _row(body, sent["failed"])
    assert "Send again" in _row(body, sent["failed"])
    assert "Not supported" in _row(body, sent["unsupported"])
    assert "Done" in _row(body, sent["done"])
    assert body.count("Send again") == 1  # only the failed one


def test_an_expired_lease_shows_as_waiting_for_an_agent(officer_client, sent):
    claimed = sent["claimed"]
    ConsentPropagation.objects.filter(pk=claimed.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    body = officer_client.get(PROPAGATIONS).content.decode()

    assert "Waiting for an agent" in _row(body, claimed)


def test_propagation_list_filters_by_status(officer_client, sent):
    body = officer_client.get(PROPAGATIONS, {"status": "waiting"}).content.decode()

    assert body.count('data-status="waiting"') == 3
    assert 'data-status="failed"' not in body
    unknown = officer_client.get(PROPAGATIONS, {"status": "nonsense"})
    assert unknown.status_code == 200
    assert unknown.content.decode().count('data-status="') == len(sent)


def test_officer_sends_a_failed_withdrawal_again(officer_client, sent):
    failed = sent["failed"]

    response = officer_client.post(
        reverse("dashboard:consent_propagation_retry", args=[failed.public_id])
    )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "pending"
    assert AuditEvent.objects.filter(action="consent.propagation_retried").exists()


def test_a_withdrawal_that_has_not_failed_cannot_be_sent_again(officer_client, sent):
    done = sent["done"]

    response = officer_client.post(
        reverse("dashboard:consent_propagation_retry", args=[done.public_id]),
        follow=True,
    )

    assert "only a failed propagation can be retried" in response.content.decode()
    done.refresh_from_db()
    assert done.status == "succeeded"


@pytest.mark.parametrize("who", ["auditor_client", "agent_client"])
def test_readers_see_withdrawals_but_cannot_send_them_again(request, who, sent):
    http = request.getfixturevalue(who)
    failed = sent["failed"]
    events = AuditEvent.objects.count()

    page = http.get(PROPAGATIONS)
    response = http.post(
        reverse("dashboard:consent_propagation_retry", args=[failed.public_id])
    )

    assert page.status_code == 200
    assert "Send again" not in page.content.decode()
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert AuditEvent.objects.count() == events


def test_consent_page_links_to_the_withdrawals(officer_client, ada):
    body = officer_client.get(PURPOSES).content.decode()
    assert f'href="{PROPAGATIONS}"' in body
