"""The queue as a work list: a reference search finds closed requests, an
assignee per request and "Assigned to me", extended and paused markers, and
the queue as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from dsr.models import Request
from dsr.services.clock import request_extend, request_pause
from dsr.services.requests import request_assign, request_cancel
from privacydesk.errors import IllegalTransition, NotPermitted

QUEUE = reverse("dashboard:queue")
QUEUE_CSV = reverse("dashboard:queue_csv")


def _refs(response) -> list[str]:
    return [item.reference for item, _deadline in response.context["rows"]]


def _assign(dsr: Request) -> str:
    return reverse("dashboard:request_action", args=[dsr.public_id, "assign"])


def _csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_searching_a_closed_requests_reference_finds_it(
    officer_client: Client, make_request, officer_actor
) -> None:
    # given a cancelled request (the queue shows open ones by default)
    closed = make_request()
    request_cancel(actor=officer_actor, request=closed, reason="Entered twice")
    make_request()

    # when its reference is searched with the filter bar as submitted
    response = officer_client.get(QUEUE, {"q": closed.reference, "status": "open"})

    # then it is found, and the bar says the search looked at every status
    assert _refs(response) == [closed.reference]
    page = response.content.decode()
    assert "No requests match these filters" not in page
    assert "looks through closed requests too" in page
    assert '<option value="" selected>Any status</option>' in page


def test_a_status_chosen_on_purpose_still_narrows_a_search(
    officer_client: Client, make_request, officer_actor
) -> None:
    closed = make_request()
    request_cancel(actor=officer_actor, request=closed, reason="Entered twice")

    response = officer_client.get(
        QUEUE, {"q": closed.reference, "status": "in_progress"}
    )

    assert _refs(response) == []


def test_officer_assigns_a_request_and_it_shows_in_the_assignees_queue(
    officer_client: Client, agent_client: Client, make_request, agent: User
) -> None:
    # given two open requests
    mine = make_request(verified=True)
    other = make_request(verified=True)

    # when the officer assigns one to the support agent
    response = officer_client.post(
        _assign(mine), {"assign-assignee": str(agent.pk)}, follow=True
    )

    # then it is recorded, audited with ids only, and shown
    mine.refresh_from_db()
    assert mine.assignee == agent
    assert any("Assigned to sam.agent." in str(m) for m in response.context["messages"])
    event = AuditEvent.objects.get(action="request.assigned")
    assert event.data == {"assignee": f"user:{agent.pk}", "previous": None}
    # the agent's "Assigned to me" holds exactly that request
    assert _refs(agent_client.get(QUEUE, {"mine": "on"})) == [mine.reference]
    assert _refs(officer_client.get(QUEUE, {"mine": "on"})) == []
    everyone = officer_client.get(QUEUE)
    assert set(_refs(everyone)) == {mine.reference, other.reference}
    assert "sam.agent" in everyone.content.decode()


def test_auditor_cannot_assign_and_nothing_changes(
    auditor_client: Client, make_request, agent: User
) -> None:
    dsr = make_request(verified=True)

    page = auditor_client.get(
        reverse("dashboard:request_detail", args=[dsr.public_id])
    ).content.decode()
    response = auditor_client.post(_assign(dsr), {"assign-assignee": str(agent.pk)})

    assert _assign(dsr) not in page
    assert response.status_code == 403
    dsr.refresh_from_db()
    assert dsr.assignee is None
    assert not AuditEvent.objects.filter(action="request.assigned").exists()


def test_a_request_cannot_be_given_to_an_auditor(
    officer_client: Client, make_request, auditor: User
) -> None:
    dsr = make_request(verified=True)

    response = officer_client.post(_assign(dsr), {"assign-assignee": str(auditor.pk)})

    assert response.status_code == 200  # the form again, with its error
    assert response.context["forms"]["assign"].errors["assignee"]
    dsr.refresh_from_db()
    assert dsr.assignee is None


def test_queue_marks_extended_and_paused_requests(
    officer_client: Client, make_request, officer_actor
) -> None:
    extended = make_request(verified=True)
    request_extend(actor=officer_actor, request=extended, reason="Many systems")
    paused = make_request(verified=True)
    request_pause(actor=officer_actor, request=paused, reason="clarification")
    plain = make_request(verified=True)

    response = officer_client.get(QUEUE)

    rows = {item.reference: item for item, _deadline in response.context["rows"]}
    assert rows[extended.reference].is_extended
    assert rows[paused.reference].clock_paused
    assert not rows[plain.reference].clock_paused
    page = response.content.decode()
    assert page.count('class="marker marker--extended"') == 1
    assert page.count('class="marker marker--paused"') == 1


def test_queue_csv_has_every_filtered_request_across_pages(
    officer_client: Client, make_request, officer_actor, agent: User
) -> None:
    # given 52 open access requests (two pages), one assigned, and an erasure
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        requests = [make_request(verified=True) for _ in range(52)]
        request_assign(actor=officer_actor, request=requests[0], assignee=agent)
        make_request(kind="erasure", verified=True)

        # when the queue, filtered by kind, is exported
        response = officer_client.get(QUEUE_CSV, {"kind": "access"})

    # then every matching request is a row, with the queue's facts
    rows = _csv(response)
    assert len(rows) == 52
    assert {row["reference"] for row in rows} == {r.reference for r in requests}
    first = next(row for row in rows if row["reference"] == requests[0].reference)
    assert first["kind"] == "access"
    assert first["status"] == "in_progress"
    assert first["assignee"] == "sam.agent"
    assert first["due_on"] == requests[0].due_on.isoformat()
    today = datetime(2026, 3, 2, tzinfo=UTC).date()
    assert int(first["days_left"]) == (requests[0].due_on - today).days
    assert first["extended"] == "no"
    assert "ada.lovelace" not in response.content.decode()  # no personal data
    # and the export is in the audit log
    event = AuditEvent.objects.get(action="requests.exported")
    assert event.data["rows"] == 52
    assert event.data["filters"]["kind"] == "access"


def test_queue_csv_needs_a_staff_role(client: Client, no_role_user: User) -> None:
    client.force_login(no_role_user)

    response = client.get(QUEUE_CSV)

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="requests.exported").exists()


def test_assignment_is_refused_for_a_closed_request(
    make_request, officer_actor, agent: User
) -> None:
    dsr = make_request()
    request_cancel(actor=officer_actor, request=dsr, reason="Entered twice")

    with pytest.raises(IllegalTransition):
        request_assign(actor=officer_actor, request=dsr, assignee=agent)

    dsr.refresh_from_db()
    assert dsr.assignee is None


def test_an_agent_may_be_assigned_but_may_not_assign(
    make_request, agent: User, officer: User
) -> None:
    dsr = make_request(verified=True)

    with pytest.raises(NotPermitted):
        request_assign(actor=actor_for_user(agent), request=dsr, assignee=officer)

    dsr.refresh_from_db()
    assert dsr.assignee is None
