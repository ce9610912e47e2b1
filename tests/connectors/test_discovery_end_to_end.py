"""Discovery end to end: the proposal of a real store (the demo helpdesk and
a supportdesk, in SQLite and PostgreSQL), saved unchanged as a connector,
erases the subject's data when a real erasure request runs through the
lifecycle, leaves everyone else's as it was, and verifies; the daily
re-scan then flags a personal column added later."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.actors import Actor, actor_system
from audit.models import AuditEvent
from connectors.choices import DiscoveryStatus
from connectors.demo.content import customer
from connectors.discovery.proposal import data_categories
from connectors.discovery.services import (
    connector_rescan,
    connectors_rescan_all,
    discovery_run,
    discovery_save,
    discovery_start,
)
from connectors.models import Connector, Discovery
from connectors.services import connector_test_connection
from dsr.choices import RequestStatus
from dsr.services.execution.running import task_run
from tests.connectors.discovery_stores import Target
from tests.disclosure import DISCLOSURE

pytestmark = pytest.mark.django_db


def _discover(
    actor: Actor, store: Target, capture: Any, *, name: str = "discovered"
) -> Connector:
    with capture(execute=True):  # the scan task runs at commit (eager)
        discovery = discovery_start(actor=actor, dsn=store.dsn_with_password)
    discovery.refresh_from_db()
    assert discovery.status == DiscoveryStatus.DONE, discovery.error
    assert discovery.tables_done == discovery.tables_total > 0
    return discovery_save(
        actor=actor,
        discovery=discovery,
        proposal=discovery.proposal,  # unchanged
        name=name,
        data_categories=data_categories(discovery.proposal),
        disclosure=DISCLOSURE,
    )


def _others(store: Target) -> dict[str, list[tuple[Any, ...]]]:
    if store.shape == "supportdesk":
        return store.supportdesk().everything_of_others()
    email = customer(1).email
    return {
        "customers": store.rows("SELECT * FROM customers WHERE id <> 1 ORDER BY id"),
        "tickets": store.rows(
            "SELECT * FROM tickets WHERE customer_id <> 1 ORDER BY id"
        ),
        "messages": store.rows(
            "SELECT * FROM messages WHERE ticket_id IN"
            " (SELECT id FROM tickets WHERE customer_id <> 1) ORDER BY id"
        ),
        "ai_conversations": store.rows(
            f"SELECT * FROM ai_conversations WHERE customer_email <> '{email}'"
            " ORDER BY id"
        ),
    }


def _subject_traces(store: Target) -> list[str]:
    """The subject's identifiers and name still found anywhere in the store."""
    if store.shape == "supportdesk":
        texts = store.supportdesk().subject_texts()
        needles = ["jane.doe@example.com", "jane doe", "7946 0958", "jane"]
    else:
        person = customer(1)
        texts = [
            str(value)
            for sql in (
                "SELECT name, email, phone FROM customers WHERE id = 1",
                "SELECT subject FROM tickets WHERE customer_id = 1",
                "SELECT body FROM messages WHERE ticket_id IN"
                " (SELECT id FROM tickets WHERE customer_id = 1)",
                "SELECT customer_email, transcript FROM ai_conversations",
            )
            for row in store.rows(sql)
            for value in row
            if value is not None
        ]
        needles = [person.email, person.phone, person.name.lower()]
    return [n for n in needles for text in texts if n.lower() in text.lower()]


def test_a_saved_proposal_erases_the_subject_and_keeps_everyone_else(
    discovery_store: Target,
    make_request: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: the store discovered and its proposal saved as it was proposed
    actor = actor_system("tests")
    connector = _discover(actor, discovery_store, django_capture_on_commit_callbacks)
    assert connector_test_connection(actor=actor, connector=connector).ok
    others = _others(discovery_store)
    assert _subject_traces(discovery_store)

    # when: a real erasure request runs through the lifecycle
    with django_capture_on_commit_callbacks(execute=False):
        request = make_request(
            kind="erasure",
            verified=True,
            identity={"email": discovery_store.subject_email},
        )
    task = request.tasks.get(connector=connector, action="erase")
    assert task_run(task_id=task.pk) == "succeeded", task.tries.values("error")

    # then: her data is gone, verified, and nobody else's changed
    task.refresh_from_db()
    assert task.records_changed > 0
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED, request.status_reason
    assert _subject_traces(discovery_store) == []
    assert _others(discovery_store) == others
    if discovery_store.shape == "supportdesk":
        assert discovery_store.rows(
            "SELECT COUNT(*) FROM ai_turns WHERE conversation_id IN"
            " (SELECT id FROM ai_conversations WHERE customer_id = 1)"
        ) == [(0,)]
        assert discovery_store.rows(
            "SELECT COUNT(*) FROM tickets WHERE customer_id = 1"
        ) == [(3,)]


def test_the_saved_connector_keeps_the_password_as_its_secret(
    discovery_store: Target, django_capture_on_commit_callbacks: Any
) -> None:
    actor = actor_system("tests")
    connector = _discover(actor, discovery_store, django_capture_on_commit_callbacks)

    assert connector.config["dsn"] == discovery_store.dsn
    assert (connector.secrets or {}).get("password", "") == discovery_store.password
    discovery = Discovery.objects.get(connector=connector)
    assert discovery.dsn == ""  # the scan forgot the DSN once saved
    actions = set(
        AuditEvent.objects.filter(object_id=str(discovery.public_id)).values_list(
            "action", flat=True
        )
    )
    assert {
        "connector.discovery_started",
        "connector.discovery_finished",
        "connector.discovery_saved",
    } <= actions


def test_a_rescan_flags_a_personal_column_added_after_discovery(
    discovery_store: Target, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a saved proposal, and a re-scan that finds nothing new
    actor = actor_system("tests")
    connector = _discover(actor, discovery_store, django_capture_on_commit_callbacks)
    first = connector_rescan(actor=actor, connector=connector)
    assert first.status == DiscoveryStatus.DONE
    assert first.flagged == []

    # when: the store grows a home address column and a notes table
    discovery_store.execute("ALTER TABLE customers ADD COLUMN home_address TEXT")
    discovery_store.execute(
        "UPDATE customers SET home_address = '221B Baker Street, London NW1 6XE'"
    )
    discovery_store.execute(
        "CREATE TABLE call_notes (id INTEGER PRIMARY KEY, caller_email TEXT)"
    )
    discovery_store.execute("INSERT INTO call_notes VALUES (1, 'someone@example.org')")
    with django_capture_on_commit_callbacks(execute=True):
        assert connectors_rescan_all() == 1  # the beat task's half

    # then: both are flagged, as health warnings too, and audited
    latest = connector.discoveries.filter(kind="rescan").order_by("-created_at")[0]
    flagged = {(f["table"], f["column"]) for f in latest.flagged}
    assert flagged == {("customers", "home_address"), ("call_notes", "caller_email")}
    connector.refresh_from_db()
    messages = [w["message"] for w in connector.health_warnings]
    assert any("customers.home_address" in m for m in messages)
    # a later health check keeps the re-scan's flags
    connector_test_connection(actor=actor, connector=connector)
    connector.refresh_from_db()
    assert len(connector.health_warnings) >= 2
    event = AuditEvent.objects.filter(action="connector.rescanned").latest("id")
    assert "customers.home_address" in event.data["columns"]
    assert "221B" not in str(event.data)


def test_a_rescan_of_an_unreachable_store_is_recorded_as_failed(
    discovery_store: Target, django_capture_on_commit_callbacks: Any
) -> None:
    actor = actor_system("tests")
    connector = _discover(actor, discovery_store, django_capture_on_commit_callbacks)
    config = dict(connector.config)
    config["dsn"] = (
        "postgresql://nobody@127.0.0.1:1/none"
        if discovery_store.backend == "postgresql"
        else config["dsn"] + ".missing"
    )
    Connector.objects.filter(pk=connector.pk).update(config=config)
    connector.refresh_from_db()

    scan = connector_rescan(actor=actor, connector=connector)

    assert scan.status == DiscoveryStatus.FAILED
    assert scan.error
    assert AuditEvent.objects.filter(action="connector.discovery_failed").exists()


def test_a_scan_runs_once_and_a_dead_workers_scan_is_taken_again(
    discovery_store: Target, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a scan claimed by a worker that died long ago
    actor = actor_system("tests")
    with django_capture_on_commit_callbacks(execute=False):
        discovery = discovery_start(actor=actor, dsn=discovery_store.dsn_with_password)
    Discovery.objects.filter(pk=discovery.pk).update(
        status=DiscoveryStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=1),
    )

    # when / then: the redelivered message takes it again, a duplicate skips
    assert discovery_run(discovery_id=discovery.pk) == DiscoveryStatus.DONE
    assert discovery_run(discovery_id=discovery.pk) == "skipped"
