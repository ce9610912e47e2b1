"""The request lifecycle: transitions, permissions, deadlines and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from dsr.choices import RequestStatus
from dsr.models import ClockPause, Request
from dsr.services.clock import request_extend, request_pause, request_resume
from dsr.services.request_inputs import request_corrections_clean
from dsr.services.requests import (
    request_approve,
    request_cancel,
    request_close,
    request_create,
    request_reject,
    request_verify,
)
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed

pytestmark = pytest.mark.django_db


def _events(request: Request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id)).values_list(
            "action", flat=True
        )
    )


def test_received_at_sets_the_clock_and_reference(make_request) -> None:
    # given a request that arrived by post on 31 January 2025 (GB/ENG calendar)
    received = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    # when it is entered
    request = make_request(received_at=received, verified=True)
    # then the month runs from that day: 28 February 2025 is a Friday
    assert request.due_on == date(2025, 2, 28)
    assert request.reference.startswith("DSR-2025-")
    assert request.status == RequestStatus.IN_PROGRESS
    assert _events(request) == [
        "request.received",
        "request.verified",
        "request.started",
        "request.fanned_out",
    ]


def test_late_evening_receipt_counts_on_the_local_day(make_request, settings) -> None:
    # 23:30 in New York on 31 March is already 1 April in UTC
    settings.CONTROLLER_TIME_ZONE = "America/New_York"
    settings.DEADLINE_COUNTRY, settings.DEADLINE_SUBDIVISION = "US", None
    request = make_request(
        received_at=datetime(2025, 4, 1, 3, 30, tzinfo=UTC), verified=True
    )
    # 31 March + 1 month = 30 April 2025 (Wednesday)
    assert request.due_on == date(2025, 4, 30)


def test_unverified_request_waits_with_an_identity_pause(make_request) -> None:
    request = make_request()
    assert request.status == RequestStatus.RECEIVED
    pause = ClockPause.objects.get(request=request)
    assert pause.reason == "identity"
    assert pause.ended_at is None


def test_uk_clock_restarts_when_identity_arrives(make_request, officer_actor) -> None:
    # given a UK request received on Monday 3 March 2025 whose ID was asked for
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        request = make_request(regime="uk_gdpr")
        assert request.due_on == date(2025, 4, 3)
    # when ID arrives ten days later
    with time_machine.travel(datetime(2025, 3, 13, 9, 0, tzinfo=UTC), tick=False):
        request = request_verify(
            actor=officer_actor, request=request, method="staff_checked"
        )
    # then the month runs from 13 March: 13 April 2025 is a Sunday -> Monday 14
    assert request.clock_start_on == date(2025, 3, 13)
    assert request.due_on == date(2025, 4, 14)


def test_eu_clock_is_suspended_while_waiting_for_prompt_id(
    make_request, officer_actor
) -> None:
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        request = make_request(regime="gdpr")
    with time_machine.travel(datetime(2025, 3, 13, 9, 0, tzinfo=UTC), tick=False):
        request = request_verify(
            actor=officer_actor, request=request, method="staff_checked"
        )
    # 3 April + 10 suspended days = 13 April (Sunday) -> Monday 14 April
    assert request.clock_start_on == date(2025, 3, 3)
    assert request.due_on == date(2025, 4, 14)


def test_ccpa_verification_never_pauses_the_clock(make_request, officer_actor) -> None:
    with time_machine.travel(datetime(2025, 3, 3, 17, 0, tzinfo=UTC), tick=False):
        request = make_request(regime="ccpa")
    with time_machine.travel(datetime(2025, 3, 20, 17, 0, tzinfo=UTC), tick=False):
        request = request_verify(
            actor=officer_actor, request=request, method="staff_checked"
        )
    assert request.due_on == date(2025, 4, 17)  # 45 calendar days after 3 March
    assert request.acknowledge_by is not None


def test_extension_counts_three_months_from_the_start(
    make_request, officer_actor, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        request = make_request(verified=True)
    with (
        time_machine.travel(datetime(2025, 2, 20, 10, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        request = request_extend(
            actor=officer_actor, request=request, reason="Twelve systems to search"
        )
    # 31 Jan + 3 months = 30 April 2025 (Wednesday), not 28 Feb + 2 months
    assert request.due_on == date(2025, 4, 30)
    assert request.is_extended
    assert "request.extended" in _events(request)
    assert len(mail.outbox) == 1
    assert "Twelve systems to search" in mail.outbox[0].body


def test_extension_refused_after_the_first_month_and_nothing_changes(
    make_request, officer_actor
) -> None:
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        request = make_request(verified=True)
    with (
        time_machine.travel(datetime(2025, 3, 1, 10, 0, tzinfo=UTC), tick=False),
        pytest.raises(IllegalTransition, match="too late"),
    ):
        request_extend(actor=officer_actor, request=request, reason="Too many systems")
    request.refresh_from_db()
    assert not request.is_extended
    assert request.due_on == date(2025, 2, 28)


def test_extension_only_once(make_request, officer_actor) -> None:
    request = make_request(verified=True)
    request_extend(
        actor=officer_actor, request=request, reason="Many systems to search"
    )
    with pytest.raises(IllegalTransition, match="extended already"):
        request_extend(actor=officer_actor, request=request, reason="Even more systems")


def test_clarification_pause_moves_the_due_date(make_request, officer_actor) -> None:
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        request = make_request(regime="uk_gdpr", verified=True)
    with time_machine.travel(datetime(2025, 3, 5, 9, 0, tzinfo=UTC), tick=False):
        request_pause(actor=officer_actor, request=request, reason="clarification")
    with time_machine.travel(datetime(2025, 3, 7, 9, 0, tzinfo=UTC), tick=False):
        request = request_resume(actor=officer_actor, request=request)
    # 5..7 March do not count (inclusive, DPA 2018 s.54(3C)): 3 Apr + 3 = 6 Apr
    # (Sunday) -> Monday 7 April 2025
    assert request.due_on == date(2025, 4, 7)


def test_reject_needs_a_reason_and_tells_the_subject_their_rights(
    make_request, officer_actor, django_capture_on_commit_callbacks
) -> None:
    request = make_request(verified=True)
    with pytest.raises(ValidationFailed) as error:
        request_reject(actor=officer_actor, request=request, reason=" ")
    assert error.value.field == "reason"

    with django_capture_on_commit_callbacks(execute=True):
        request = request_reject(
            actor=officer_actor, request=request, reason="Manifestly unfounded: repeats"
        )

    assert request.status == RequestStatus.REJECTED
    assert request.closed_at
    body = mail.outbox[-1].body
    assert "Manifestly unfounded: repeats" in body
    assert "supervisory authority" in body.lower()
    assert "judicial remedy" in body.lower()


@pytest.mark.parametrize(
    ("transition", "kwargs"),
    [
        (request_approve, {}),
        (request_reject, {"reason": "Not a valid request"}),
        (request_extend, {"reason": "Many systems"}),
        (request_cancel, {}),
        (request_close, {"outcome": "completed"}),
    ],
)
def test_support_agent_cannot_manage_and_nothing_changes(
    make_request, agent, transition, kwargs
) -> None:
    request = make_request(verified=True)
    before = (request.status, request.due_on, len(_events(request)))

    with pytest.raises(NotPermitted):
        transition(actor=actor_for_user(agent), request=request, **kwargs)

    request.refresh_from_db()
    assert (request.status, request.due_on, len(_events(request))) == before


def test_auditor_cannot_create(auditor) -> None:
    with pytest.raises(NotPermitted):
        request_create(
            actor=actor_for_user(auditor),
            kind="access",
            regime="gdpr",
            channel="dashboard",
            identity={"email": "x@example.com"},
        )
    assert Request.objects.count() == 0


@pytest.mark.parametrize(
    ("status_after", "transition", "kwargs"),
    [
        ("cancelled", request_close, {"outcome": "completed"}),
        ("cancelled", request_extend, {"reason": "Too late anyway"}),
        ("cancelled", request_cancel, {}),
        ("rejected", request_approve, {}),
    ],
)
def test_closed_requests_refuse_transitions(
    make_request, officer_actor, status_after, transition, kwargs
) -> None:
    request = make_request(verified=True)
    if status_after == "cancelled":
        request_cancel(actor=officer_actor, request=request)
    else:
        request_reject(
            actor=officer_actor, request=request, reason="Duplicate of another"
        )
    with pytest.raises(IllegalTransition):
        transition(actor=officer_actor, request=request, **kwargs)
    request.refresh_from_db()
    assert request.status == status_after


def test_approval_gate_when_configured(make_request, officer_actor, settings) -> None:
    settings.REQUESTS_REQUIRE_APPROVAL = True
    request = make_request(verified=True)
    assert request.status == RequestStatus.VERIFIED

    request = request_approve(actor=officer_actor, request=request)

    assert request.status == RequestStatus.IN_PROGRESS
    assert request.approved_by == officer_actor.ref


def test_subject_can_cancel_only_before_work_starts(make_request) -> None:
    from accounts.actors import actor_for_subject

    started = make_request(verified=True)
    with pytest.raises(IllegalTransition):
        request_cancel(actor=actor_for_subject(str(started.public_id)), request=started)
    waiting = make_request()
    waiting = request_cancel(
        actor=actor_for_subject(str(waiting.public_id)), request=waiting
    )
    assert waiting.status == RequestStatus.CANCELLED
    assert not waiting.pauses.filter(ended_at__isnull=True).exists()


def test_close_partially_needs_a_reason(make_request, officer_actor) -> None:
    request = make_request(verified=True)
    with pytest.raises(ValidationFailed):
        request_close(
            actor=officer_actor, request=request, outcome="partially_completed"
        )
    request = request_close(
        actor=officer_actor,
        request=request,
        outcome="partially_completed",
        note="Billing kept under tax law, 17(3)(b)",
    )
    assert request.status == RequestStatus.PARTIALLY_COMPLETED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "delete_everything"}, "kind"),
        ({"regime": "lgpd"}, "regime"),
        ({"identity": {"email": "not-an-address"}}, "identity.email"),
        ({"identity": {}}, "identity"),
        ({"identity": {"email": "a@example.com", "ssn": "1"}}, "identity.ssn"),
        ({"identity": {"customer_ids": {"crm": ""}}}, "identity.customer_ids.crm"),
        ({"kind": "rectification"}, "corrections"),
        ({"kind": "access", "corrections": {"name": "Ada"}}, "corrections"),
        ({"received_at": datetime(2030, 1, 1, tzinfo=UTC)}, "received_at"),
        ({"received_at": datetime(2025, 1, 1)}, "received_at"),  # noqa: DTZ001
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    make_request, overrides, field
) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_request(**overrides)
    assert error.value.field == field
    assert Request.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_setting_received_at_needs_the_right(make_request) -> None:
    from accounts.actors import Actor
    from accounts.permissions import Perm

    creator_only = Actor(
        kind="api",
        ref="client:x",
        label="CRM",
        permissions=frozenset({Perm.REQUEST_CREATE}),
    )
    with pytest.raises(NotPermitted):
        make_request(actor=creator_only, received_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert Request.objects.count() == 0


def test_history_keeps_encrypted_copies(make_request, officer_actor) -> None:
    from django.db import connection

    request = make_request(identity={"email": "grace.hopper@example.com"})
    request_cancel(actor=officer_actor, request=request)

    assert request.history.count() >= 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity FROM dsr_historicalrequest")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored
    assert all("grace.hopper" not in value for value in stored)


def test_eu_identity_pause_refused_when_asked_too_late(
    make_request, officer_actor
) -> None:
    # given an EU request verified on arrival, received 10 days ago
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        request = make_request(regime="gdpr", verified=True)
    # when staff only now ask for ID (threshold: 3 days)
    with (
        time_machine.travel(datetime(2025, 3, 13, 9, 0, tzinfo=UTC), tick=False),
        pytest.raises(IllegalTransition, match="too late"),
    ):
        request_pause(actor=officer_actor, request=request, reason="identity")
    # then no pause was recorded
    assert not request.pauses.exists()


def test_ccpa_refuses_a_clock_pause(make_request, officer_actor) -> None:
    request = make_request(regime="ccpa", verified=True)
    with pytest.raises(IllegalTransition):
        request_pause(actor=officer_actor, request=request, reason="clarification")
    assert not request.pauses.exists()


def test_the_corrections_rule_cleans_a_rectification_and_refuses_strays() -> None:
    # a rectification needs a correction; its names are trimmed
    assert request_corrections_clean(
        kind="rectification", corrections={" name ": "Ada King"}
    ) == {"name": "Ada King"}
    for empty in (None, {}, "Ada King"):
        with pytest.raises(ValidationFailed) as missing:
            request_corrections_clean(kind="rectification", corrections=empty)
        assert missing.value.field == "corrections"
    # any other kind takes none: a stray correction is refused, not dropped
    assert request_corrections_clean(kind="erasure", corrections=None) is None
    with pytest.raises(ValidationFailed, match="only a request to correct data"):
        request_corrections_clean(kind="erasure", corrections={"name": "Ada"})
    with pytest.raises(ValidationFailed) as bad_value:
        request_corrections_clean(kind="rectification", corrections={"name": 1})
    assert bad_value.value.field == "corrections.name"
