"""Review steps (issue 16): an officer reviews an erasure before it runs and
an access package before the subject gets it; with review off, nothing
waits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor, actor_for_user
from audit.models import AuditEvent
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.models import Connector
from dsr.choices import RequestStatus
from dsr.links import status_token
from dsr.models import AccessPackage, Request, RequestNote
from dsr.review import work_review_parse
from dsr.services.package_reviews import access_package_release
from dsr.services.packages import access_package_build_and_close
from dsr.services.requests import request_approve, request_reject
from privacydesk.errors import IllegalTransition, ValidationFailed
from tests.disclosure import DISCLOSURE
from tests.retention.conftest import store_tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def helpdesk(tmp_path: Path, db: Any) -> Path:
    """A real SQLite support store behind an sql connector."""
    path = tmp_path / "helpdesk.db"
    build_sqlite(path, StoreSize(customers=3, tickets_per_customer=2))
    Connector.objects.create(
        name="helpdesk",
        kind="sql",
        config={"dsn": f"sqlite:///{path}", "tables": store_tables()},
        data_categories=["contact", "support_ticket", "ai_conversation"],
        disclosure=DISCLOSURE,
    )
    return path


def _customers(path: Path, email: str) -> int:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT count(*) FROM customers WHERE email = ?", [email]
        ).fetchone()
    return int(row[0])


def _erasure(make_request: Callable[..., Request], capture: Any) -> Request:
    with capture(execute=True):
        return make_request(
            kind="erasure",
            verified=True,
            identity={"email": customer(1).email},
        )


def _events(request: Request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


@pytest.fixture
def officer_actor_user(officer: User) -> Actor:
    return actor_for_user(officer)


# --- the setting ----------------------------------------------------------------


def test_the_erasure_review_setting_reads_regimes_and_kinds() -> None:
    assert not work_review_parse(["off"]).covers(kind="erasure", regime="gdpr")
    every = work_review_parse(["all"])
    assert every.covers(kind="erasure", regime="ccpa")
    assert not every.covers(kind="rectification", regime="gdpr")
    regimes = work_review_parse(["gdpr", "uk_gdpr"])
    assert regimes.covers(kind="erasure", regime="uk_gdpr")
    assert not regimes.covers(kind="erasure", regime="ccpa")
    kinds = work_review_parse(["erasure", "objection"])
    assert kinds.covers(kind="objection", regime="ccpa")
    both = work_review_parse(["ccpa", "rectification"])
    assert both.covers(kind="rectification", regime="ccpa")
    assert not both.covers(kind="rectification", regime="gdpr")
    with pytest.raises(ImproperlyConfigured, match="erasur"):
        work_review_parse(["erasur"])
    with pytest.raises(ImproperlyConfigured, match="access"):
        work_review_parse(["access"])  # its review is the package's release


# --- review before erasure ------------------------------------------------------


def test_review_off_an_erasure_runs_at_once(
    helpdesk: Path,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _erasure(make_request, django_capture_on_commit_callbacks)

    request.refresh_from_db()
    assert not request.review_before_work
    assert request.status == RequestStatus.COMPLETED
    assert _customers(helpdesk, customer(1).email) == 0


def test_an_erasure_under_review_waits_then_runs_once_approved_with_a_note(
    helpdesk: Path,
    make_request: Callable[..., Request],
    officer_actor_user: Actor,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given review before erasure for GDPR requests
    settings.REVIEW_BEFORE_ERASURE = ["gdpr"]
    request = _erasure(make_request, django_capture_on_commit_callbacks)

    # then it waits, verified, and no store was touched
    request.refresh_from_db()
    assert request.review_before_work
    assert request.status == RequestStatus.VERIFIED
    assert not request.tasks.exists()
    assert _customers(helpdesk, customer(1).email) == 1

    # when an officer approves without a note, it is refused
    with pytest.raises(ValidationFailed) as refused:
        request_approve(actor=officer_actor_user, request=request)
    assert refused.value.field == "note"
    request.refresh_from_db()
    assert request.status == RequestStatus.VERIFIED

    # when the officer approves with a note
    with django_capture_on_commit_callbacks(execute=True):
        request_approve(
            actor=officer_actor_user,
            request=request,
            note="Checked: no open dispute, no legal hold needed.",
        )

    # then the erasure ran in the store, and the decision is in the audit log
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert _customers(helpdesk, customer(1).email) == 0
    approved = AuditEvent.objects.get(
        object_id=str(request.public_id), action="request.approved"
    )
    assert approved.data["review"] is True
    note = RequestNote.objects.get(pk=approved.data["note_id"])
    assert note.text.startswith("Checked: no open dispute")


def test_an_erasure_under_review_rejected_is_refused_with_reasons(
    helpdesk: Path,
    make_request: Callable[..., Request],
    officer_actor_user: Actor,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.REVIEW_BEFORE_ERASURE = ["all"]
    request = _erasure(make_request, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        request_reject(
            actor=officer_actor_user,
            request=request,
            reason="We must keep the account data for a pending court case.",
        )

    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert "pending court case" in request.status_reason
    assert _customers(helpdesk, customer(1).email) == 1
    assert not request.tasks.exists()
    rejected = AuditEvent.objects.get(
        object_id=str(request.public_id), action="request.rejected"
    )
    assert rejected.data["at_review"] == "approval"
    # the refusal notice (reasons and rights) went to the requester
    assert len(mail.outbox) == 1
    assert "pending court case" in mail.outbox[0].body


def test_a_request_outside_the_review_list_does_not_wait(
    helpdesk: Path,
    make_request: Callable[..., Request],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.REVIEW_BEFORE_ERASURE = ["ccpa"]
    request = _erasure(make_request, django_capture_on_commit_callbacks)
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


# --- review before an access package is released --------------------------------


def _answered_access(
    make_request: Callable[..., Request], capture: Any
) -> tuple[Request, AccessPackage]:
    with capture(execute=True):
        request = make_request(
            kind="access", verified=True, identity={"email": customer(1).email}
        )
    return request, AccessPackage.objects.get(request=request)


def test_review_off_the_package_goes_out_at_once(
    helpdesk: Path,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    request, package = _answered_access(
        make_request, django_capture_on_commit_callbacks
    )
    request.refresh_from_db()
    assert not package.held
    assert request.status == RequestStatus.COMPLETED
    assert any("ready" in message.subject.lower() for message in mail.outbox)


def test_a_held_package_reaches_the_subject_only_once_released(
    helpdesk: Path,
    make_request: Callable[..., Request],
    officer: User,
    auditor: User,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given review before release
    settings.REVIEW_BEFORE_ACCESS_RELEASE = True
    mail.outbox.clear()
    request, package = _answered_access(
        make_request, django_capture_on_commit_callbacks
    )

    # then the package is built but held: the request stays open, the
    # subject has no e-mail and the portal shows no package
    request.refresh_from_db()
    assert package.held
    assert request.status == RequestStatus.IN_PROGRESS
    assert not [m for m in mail.outbox if "ready" in m.subject.lower()]
    token = status_token(str(request.public_id))
    portal = Client().get(reverse("portal:package", args=[token]))
    assert b"Download my data" not in portal.content
    assert portal.status_code == 200
    assert "access_package.held_for_review" in _events(request)
    # a second build (a redelivered message) changes nothing
    assert access_package_build_and_close(request_id=request.pk) == "exists"

    # and the queue counts it as waiting for review
    officer_client = Client()
    officer_client.force_login(officer)
    queue = officer_client.get(reverse("dashboard:queue") + "?review=on")
    assert request.reference.encode() in queue.content
    assert b"Waiting for review" in queue.content

    # when the auditor tries to open or release it, nothing happens
    auditor_client = Client()
    auditor_client.force_login(auditor)
    detail = auditor_client.get(
        reverse("dashboard:request_detail", args=[request.public_id])
    )
    assert b"release the access package" not in detail.content
    opened = auditor_client.get(
        reverse("dashboard:request_package_review", args=[request.public_id])
    )
    released = auditor_client.post(
        reverse(
            "dashboard:request_action", args=[request.public_id, "release_package"]
        ),
        {"release_package-confirm": "on"},
    )
    assert opened.status_code == 403
    assert released.status_code == 403
    package.refresh_from_db()
    assert package.held

    # when the officer opens the package, then releases it
    detail = officer_client.get(
        reverse("dashboard:request_detail", args=[request.public_id])
    )
    assert b"release the access package" in detail.content
    opened = officer_client.get(
        reverse("dashboard:request_package_review", args=[request.public_id])
    )
    assert opened.status_code == 200
    assert b"".join(opened.streaming_content)[:2] == b"PK"  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):
        done = officer_client.post(
            reverse(
                "dashboard:request_action",
                args=[request.public_id, "release_package"],
            ),
            {
                "release_package-note": "Checked: no third party in the tickets.",
                "release_package-confirm": "on",
            },
        )

    # then the request closes and the subject is told, and can fetch it
    assert done.status_code == 302
    request.refresh_from_db()
    package.refresh_from_db()
    assert not package.held
    assert package.released_by == f"user:{officer.pk}"
    assert request.status == RequestStatus.COMPLETED
    assert [m for m in mail.outbox if "ready" in m.subject.lower()]
    portal = Client().get(reverse("portal:package", args=[token]))
    assert portal.status_code == 200
    assert b"code" in portal.content.lower()
    events = _events(request)
    assert events.index("access_package.opened_for_review") < events.index(
        "access_package.released"
    )
    assert events.index("access_package.released") < events.index("request.closed")


def test_a_held_package_is_released_not_closed_around(
    helpdesk: Path,
    make_request: Callable[..., Request],
    officer_actor_user: Actor,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.REVIEW_BEFORE_ACCESS_RELEASE = True
    request, _ = _answered_access(make_request, django_capture_on_commit_callbacks)

    from dsr.services.requests import request_close

    with pytest.raises(IllegalTransition, match="waits for review"):
        request_close(actor=officer_actor_user, request=request, outcome="completed")
    assert access_package_release(actor=officer_actor_user, request=request) == (
        RequestStatus.COMPLETED
    )
    with pytest.raises(IllegalTransition):
        access_package_release(actor=officer_actor_user, request=request)


def test_the_api_approves_a_reviewed_erasure_only_with_a_note(
    helpdesk: Path,
    make_request: Callable[..., Request],
    make_api_client: Callable[..., Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an erasure waiting for review
    settings.REVIEW_BEFORE_ERASURE = ["erasure"]
    request = _erasure(make_request, django_capture_on_commit_callbacks)
    _, api = make_api_client("requests:read", "requests:manage")
    url = f"/api/v1/requests/{request.public_id}/"
    assert api.get(url).json()["awaiting_review"] == "approval"

    # when approved without a note: 400 naming the field, nothing started
    refused = api.post(f"{url}approve/", {}, format="json")
    assert refused.status_code == 400
    assert "note" in str(refused.json())
    request.refresh_from_db()
    assert request.status == RequestStatus.VERIFIED

    # when approved with one: the erasure runs
    with django_capture_on_commit_callbacks(execute=True):
        approved = api.post(
            f"{url}approve/", {"note": "Identity and scope checked."}, format="json"
        )
    assert approved.status_code == 200
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert api.get(url).json()["awaiting_review"] == ""
    assert _customers(helpdesk, customer(1).email) == 0
