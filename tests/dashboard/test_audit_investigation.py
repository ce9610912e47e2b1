"""The audit log supports an investigation: filters by actor, action, request
and date that narrow correctly, references and names instead of ids, and an
export as CSV (issue 16, item 7)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_for_user, actor_system
from audit.chain import hash_of
from audit.models import AuditEvent
from audit.services import audit_record
from connectors.services import connector_create
from dsr.services.requests import request_add_note
from tests.disclosure import CATEGORIES, DISCLOSURE

AUDIT = reverse("dashboard:audit_log")
AUDIT_CSV = reverse("dashboard:audit_log_csv")


def _sequences(response) -> list[int]:
    return [event.sequence for event, _who, _object in response.context["rows"]]


def _events(**filters) -> list[int]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
    )


def _story(make_request, officer: User):
    """Two requests on two days; the officer notes one of them."""
    with time_machine.travel(datetime(2026, 2, 2, 10, 0, tzinfo=UTC), tick=False):
        first = make_request(verified=True)
    with time_machine.travel(datetime(2026, 2, 9, 10, 0, tzinfo=UTC), tick=False):
        second = make_request()
        request_add_note(
            actor=actor_for_user(officer), request=second, text="Called back"
        )
    return first, second


def test_filter_by_request_reference_narrows_to_its_events(
    auditor_client: Client, make_request, officer: User
) -> None:
    first, second = _story(make_request, officer)

    response = auditor_client.get(AUDIT, {"request": first.reference.lower()})

    assert _sequences(response) == _events(object_id=str(first.public_id))
    assert _sequences(response)  # received, verified, started, fanned out...
    page = response.content.decode()
    # the request by its reference, linked, not "Request 1d219c20"
    assert first.reference in page
    assert reverse("dashboard:request_detail", args=[first.public_id]) in page
    assert str(first.public_id)[:8] + "</code>" not in page


def test_filter_by_actor_action_and_dates(
    auditor_client: Client, make_request, officer: User
) -> None:
    first, second = _story(make_request, officer)

    by_officer = auditor_client.get(AUDIT, {"actor": f"user:{officer.pk}"})
    by_action = auditor_client.get(AUDIT, {"action": "request.received"})
    by_family = auditor_client.get(AUDIT, {"action": "request."})
    by_system = auditor_client.get(AUDIT, {"actor": "system:"})
    first_day = auditor_client.get(
        AUDIT, {"since": "2026-02-02", "until": "2026-02-02"}
    )
    from_second = auditor_client.get(AUDIT, {"since": "2026-02-03"})

    assert _sequences(by_officer) == _events(actor=f"user:{officer.pk}")
    assert len(_sequences(by_officer)) == 1
    assert _sequences(by_action) == _events(action="request.received")
    assert len(_sequences(by_action)) == 2
    assert _sequences(by_family) == _events(action__startswith="request.")
    assert _sequences(by_system) == _events(actor__startswith="system:")
    assert _sequences(first_day) == _events(object_id=str(first.public_id))
    assert _sequences(from_second) == _events(object_id=str(second.public_id))
    # the officer is named in the filter's choices and in the rows
    assert f'<option value="user:{officer.pk}">olivia.officer</option>' in (
        auditor_client.get(AUDIT).content.decode()
    )
    assert "olivia.officer" in by_officer.content.decode()


def test_filters_combine_and_an_empty_result_says_so(
    auditor_client: Client, make_request, officer: User
) -> None:
    first, _second = _story(make_request, officer)

    response = auditor_client.get(
        AUDIT, {"request": first.reference, "actor": f"user:{officer.pk}"}
    )

    assert _sequences(response) == []
    assert "No events match these filters" in response.content.decode()


def test_bad_dates_are_reported_not_applied(
    auditor_client: Client, make_request, officer: User
) -> None:
    _story(make_request, officer)

    response = auditor_client.get(
        AUDIT, {"since": "2026-02-09", "until": "2026-02-01", "action": "nonsense"}
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("must be on or after the From date" in m for m in messages)
    assert any("Action:" in m for m in messages)
    # the valid From date still applies; the wrong To and action do not
    since = datetime(2026, 2, 9, tzinfo=UTC)
    assert _sequences(response) == _events(occurred_at__gte=since)


def test_connector_actors_and_objects_are_named(
    auditor_client: Client, make_request
) -> None:
    # given a connector (an event about it), and an event by it
    store = connector_create(
        actor=actor_system("tests"),
        name="helpdesk",
        kind="manual",
        config={"instructions": "Find the customer in the helpdesk and do it by hand."},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    dsr = make_request(verified=True)
    task = dsr.tasks.get()
    audit_record(
        actor=f"connector:{store.public_id}",
        action="task.callback",
        obj=task,
        data={},
    )

    page = auditor_client.get(AUDIT).content.decode()

    assert "connector helpdesk" in page
    assert f"{dsr.reference}: find and export in helpdesk" in page
    assert "Connector helpdesk" in page
    assert f">connector:{store.public_id}<" not in page


def test_audit_csv_is_the_filtered_log_and_its_chain_checks(
    auditor_client: Client, make_request, officer: User
) -> None:
    first, _second = _story(make_request, officer)

    response = auditor_client.get(AUDIT_CSV, {"request": first.reference})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = sorted(_events(object_id=str(first.public_id)))
    assert [int(row["sequence"]) for row in rows] == expected
    assert {row["object"] for row in rows} == {first.reference}
    assert all(row["actor"] == "system (tests)" for row in rows)
    # each row carries what its hash covers: recomputed, it matches
    for row in rows:
        event = AuditEvent.objects.get(sequence=int(row["sequence"]))
        assert row["hash"] == event.hash == hash_of(event)
        assert json.loads(row["data"]) == event.data
    # and the export itself is audited, by the auditor
    exported = AuditEvent.objects.get(action="audit_log.exported")
    assert exported.data == {
        "rows": len(rows),
        "filters": {"request": first.reference},
    }


def test_audit_log_is_refused_to_a_role_without_it(
    agent_client: Client, make_request
) -> None:
    make_request()

    assert agent_client.get(AUDIT).status_code == 403
    assert agent_client.get(AUDIT_CSV).status_code == 403
    assert not AuditEvent.objects.filter(action="audit_log.exported").exists()
