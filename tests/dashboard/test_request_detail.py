"""One request's page and the actions on it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from dsr.models import Request, RequestNote
from dsr.services.requests import request_add_note


def _detail(dsr: Request) -> str:
    return reverse("dashboard:request_detail", args=[dsr.public_id])


def _action(dsr: Request, action: str) -> str:
    return reverse("dashboard:request_action", args=[dsr.public_id, action])


def _snapshot(dsr: Request) -> tuple:
    dsr.refresh_from_db()
    return (
        dsr.status,
        dsr.due_on,
        dsr.extended_at,
        dsr.approved_at,
        dsr.status_reason,
        dsr.pauses.count(),
        RequestNote.objects.filter(request=dsr).count(),
        AuditEvent.objects.count(),
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_request_page_shows_summary_timeline_and_actions(
    officer_client: Client, make_request, officer_actor
) -> None:
    # given
    dsr = make_request(kind="rectification", corrections={"surname": "Hopper"})
    request_add_note(
        actor=officer_actor, request=dsr, text="Called back, left voicemail"
    )

    # when
    response = officer_client.get(_detail(dsr))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        dsr.reference,
        "Received",
        "Clock start",
        "Due date",
        "Extension notice by",
        "Verification",
        "Approval",
        "Clock pauses",
        "Waiting for proof of identity",
        "Requested corrections",
        "surname",
        "Hopper",
        "Called back, left voicemail",
        "Timeline",
        "request.received",
        "request.note_added",
        "Verify identity",
        "Reject",
        "Extend the deadline",
        "Cancel",
    ):
        assert text in page, text
    event = AuditEvent.objects.filter(action="request.received").get()
    assert event.hash[:12] in page
    assert 'http-equiv="refresh"' in page  # refreshes while open


def test_reject_form_tells_what_the_subject_will_be_told(
    officer_client: Client, make_request
) -> None:
    dsr = make_request()

    page = officer_client.get(_detail(dsr)).content.decode()

    assert "right to complain to a supervisory authority" in page
    assert "right to seek a judicial remedy" in page
    assert "reasons" in page


def test_unknown_request_is_404(officer_client: Client, db: None) -> None:
    response = officer_client.get(
        "/dashboard/requests/00000000-0000-0000-0000-000000000000/"
    )

    assert response.status_code == 404


def test_verify_as_agent_moves_the_request_on(agent_client: Client, make_request):
    dsr = make_request()

    response = agent_client.post(
        _action(dsr, "verify"), {"verify-method": "staff_checked"}, follow=True
    )

    dsr.refresh_from_db()
    assert dsr.status == "in_progress"
    assert dsr.verification_method == "staff_checked"
    assert any("Identity verified" in m for m in _messages(response))


def test_extend_as_officer_changes_due_date_with_success_message(
    officer_client: Client, make_request
) -> None:
    # given a verified request received on Mon 5 Jan 2026 (due Thu 5 Feb)
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=UTC), tick=False):
        dsr = make_request(verified=True)
    assert dsr.due_on == date(2026, 2, 5)

    with time_machine.travel(datetime(2026, 1, 20, 10, 0, tzinfo=UTC), tick=False):
        # when
        response = officer_client.post(
            _action(dsr, "extend"),
            {
                "extend-reason": "Twelve systems hold data; transcripts need review.",
                "extend-confirm": "on",
            },
            follow=True,
        )

    # then: three months from the start, 5 Apr 2026 is Easter Sunday and
    # Easter Monday a bank holiday in England, so Tue 7 Apr
    dsr.refresh_from_db()
    assert dsr.is_extended
    assert dsr.due_on == date(2026, 4, 7)
    assert response.redirect_chain[-1][0] == _detail(dsr)
    assert any("Deadline extended to 7 April 2026" in m for m in _messages(response))
    page = response.content.decode()
    assert "Extend the deadline" not in page  # hidden once extended


def test_extend_without_confirm_is_a_form_error(officer_client: Client, make_request):
    dsr = make_request(verified=True)
    before = _snapshot(dsr)

    response = officer_client.post(
        _action(dsr, "extend"), {"extend-reason": "Many systems to search."}
    )

    assert response.status_code == 200
    assert response.context["forms"]["extend"].errors["confirm"]
    assert _snapshot(dsr) == before


def test_reject_without_reason_is_a_form_error(officer_client: Client, make_request):
    dsr = make_request()
    before = _snapshot(dsr)

    response = officer_client.post(
        _action(dsr, "reject"), {"reject-reason": "", "reject-confirm": "on"}
    )

    assert response.status_code == 200
    assert response.context["forms"]["reject"].errors["reason"]
    assert response.context["open_form"] == "reject"
    assert _snapshot(dsr) == before


def test_too_short_reason_from_the_service_shows_on_the_field(
    officer_client: Client, make_request
) -> None:
    dsr = make_request()
    before = _snapshot(dsr)

    response = officer_client.post(
        _action(dsr, "reject"), {"reject-reason": "no", "reject-confirm": "on"}
    )

    assert response.context["forms"]["reject"].errors["reason"] == [
        "give a reason (at least a few words)"
    ]
    assert _snapshot(dsr) == before


def test_reject_with_reason_closes_the_request(officer_client: Client, make_request):
    dsr = make_request()

    response = officer_client.post(
        _action(dsr, "reject"),
        {
            "reject-reason": "Manifestly unfounded: third request this week.",
            "reject-confirm": "on",
        },
        follow=True,
    )

    dsr.refresh_from_db()
    assert dsr.status == "rejected"
    assert any("Request rejected" in m for m in _messages(response))
    assert 'http-equiv="refresh"' not in response.content.decode()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("approve", {"approve-confirm": "on"}),
        (
            "reject",
            {"reject-reason": "Not a valid request at all.", "reject-confirm": "on"},
        ),
        (
            "extend",
            {"extend-reason": "Very many systems to search.", "extend-confirm": "on"},
        ),
        ("cancel", {"cancel-reason": "Duplicate", "cancel-confirm": "on"}),
        ("pause", {"pause-reason": "clarification"}),
    ],
)
def test_support_agent_cannot_manage_requests(
    agent_client: Client, make_request, settings, action: str, data: dict
) -> None:
    # given a verified request waiting for approval
    settings.REQUESTS_REQUIRE_APPROVAL = True
    dsr = make_request(verified=True)
    before = _snapshot(dsr)
    assert before[0] == "verified"

    # when
    response = agent_client.post(_action(dsr, action), data)

    # then
    assert response.status_code == 403
    assert _snapshot(dsr) == before


def test_support_agent_sees_no_manager_actions(
    agent_client: Client, make_request, settings
) -> None:
    settings.REQUESTS_REQUIRE_APPROVAL = True
    dsr = make_request(verified=True)

    page = agent_client.get(_detail(dsr)).content.decode()

    assert "Approve and start" not in page
    assert "Reject request" not in page
    assert "Extend deadline" not in page
    assert "Add note" in page


def test_officer_approves_a_verified_request(
    officer_client: Client, make_request, settings
) -> None:
    settings.REQUESTS_REQUIRE_APPROVAL = True
    dsr = make_request(verified=True)
    assert "Approve and start" in officer_client.get(_detail(dsr)).content.decode()

    response = officer_client.post(
        _action(dsr, "approve"), {"approve-confirm": "on"}, follow=True
    )

    dsr.refresh_from_db()
    assert dsr.status == "in_progress"
    assert dsr.approved_at is not None
    assert any("approved" in m for m in _messages(response))


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("verify", {"verify-method": "staff_checked"}),
        ("reject", {"reject-reason": "Not a valid request.", "reject-confirm": "on"}),
        ("cancel", {"cancel-confirm": "on"}),
        ("pause", {"pause-reason": "clarification"}),
        ("note", {"note-text": "Auditor was here"}),
        ("extend", {}),
    ],
)
def test_auditor_can_read_but_not_act(
    auditor_client: Client, make_request, action: str, data: dict
) -> None:
    # given
    dsr = make_request()
    before = _snapshot(dsr)

    # when
    queue = auditor_client.get(reverse("dashboard:queue"))
    page = auditor_client.get(_detail(dsr))
    audit = auditor_client.get(reverse("dashboard:audit_log"))
    response = auditor_client.post(_action(dsr, action), data)

    # then
    assert queue.status_code == page.status_code == audit.status_code == 200
    assert "can view this request but not change it" in page.content.decode()
    assert "ada.lovelace" not in page.content.decode()  # pseudonym only
    assert response.status_code == 403
    assert _snapshot(dsr) == before


def test_illegal_transition_shows_an_error_and_changes_nothing(
    officer_client: Client, make_request
) -> None:
    # given a request that is not in progress yet, so it cannot be closed
    dsr = make_request()
    before = _snapshot(dsr)

    # when
    response = officer_client.post(
        _action(dsr, "close"),
        {"close-outcome": "completed", "close-note": "", "close-confirm": "on"},
        follow=True,
    )

    # then
    assert response.redirect_chain[-1][0] == _detail(dsr)
    assert any(
        f"cannot close request {dsr.reference}: it is received" in m
        for m in _messages(response)
    )
    assert "alert--error" in response.content.decode()
    assert _snapshot(dsr) == before


def test_pause_resume_cancel_and_note(officer_client: Client, make_request):
    dsr = make_request(verified=True)

    officer_client.post(_action(dsr, "pause"), {"pause-reason": "clarification"})
    assert dsr.pauses.filter(ended_at__isnull=True).count() == 1
    assert "Resume clock" in officer_client.get(_detail(dsr)).content.decode()

    officer_client.post(_action(dsr, "resume"), {})
    assert dsr.pauses.filter(ended_at__isnull=True).count() == 0

    officer_client.post(_action(dsr, "note"), {"note-text": "Asked which chats."})
    assert RequestNote.objects.get(request=dsr).text == "Asked which chats."

    officer_client.post(_action(dsr, "cancel"), {"cancel-confirm": "on"})
    dsr.refresh_from_db()
    assert dsr.status == "cancelled"


def test_close_needs_a_note_unless_completed(officer_client: Client, make_request):
    dsr = make_request(verified=True)
    before = _snapshot(dsr)

    response = officer_client.post(
        _action(dsr, "close"),
        {"close-outcome": "failed", "close-note": "", "close-confirm": "on"},
    )

    assert response.context["forms"]["close"].errors["note"]
    assert _snapshot(dsr) == before

    officer_client.post(
        _action(dsr, "close"),
        {"close-outcome": "completed", "close-note": "", "close-confirm": "on"},
    )
    dsr.refresh_from_db()
    assert dsr.status == "completed"


def test_unknown_action_is_404(officer_client: Client, make_request) -> None:
    dsr = make_request()

    response = officer_client.post(_action(dsr, "delete"), {})

    assert response.status_code == 404


def test_actions_are_post_only(officer_client: Client, make_request) -> None:
    dsr = make_request()

    response = officer_client.get(_action(dsr, "cancel"))

    assert response.status_code == 405
    dsr.refresh_from_db()
    assert dsr.status == "received"


def test_timeline_names_staff_not_ids(
    officer_client: Client, make_request, officer: User, officer_actor
) -> None:
    dsr = make_request()
    request_add_note(actor=officer_actor, request=dsr, text="A note")

    page = officer_client.get(_detail(dsr)).content.decode()

    assert f"by {officer.username}" in page
    assert "system (tests)" in page
