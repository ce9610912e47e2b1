"""Withdrawals reach the stores that honour them: real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from connectors.models import Connector
from consent.models import ConsentPropagation, PropagationAttempt, PurposeConnector
from consent.services.events import consent_set
from consent.services.policies import purpose_connector_link, purpose_update
from consent.services.propagations import propagation_retry, propagations_sweep
from privacydesk.errors import ValidationFailed
from subjects.claims import identity_claims
from subjects.services import subject_link_identifiers

pytestmark = pytest.mark.django_db
FLAG = {"set": {"table": "customers", "column": "ai_training_opt_out", "value": True}}
DELETE_COPIES = {"delete": {"table": "training_examples"}}


def _map(dsn: str) -> dict[str, Any]:
    """The connector's own map of the store (see connectors.kinds.sql)."""
    return {
        "dsn": dsn,
        "tables": [
            {
                "table": "customers",
                "identity": {
                    "email": "email",
                    "customer_id": {"column": "crm_id", "system": "crm"},
                },
                "erase": "delete",
            },
            {
                "table": "training_examples",
                "parent": {"table": "customers", "column": "customer_id"},
                "erase": "delete",
            },
        ],
    }


def _sqlite_store(path: Path) -> str:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, "
            "crm_id TEXT, ai_training_opt_out BOOLEAN NOT NULL DEFAULT 0)"
        )
        db.executemany(
            "INSERT INTO customers (email, crm_id) VALUES (?, ?)",
            [("Ada@Example.com", None), (None, "C-1001"), ("bob@example.com", "C-2")],
        )
        db.execute(
            "CREATE TABLE training_examples (id INTEGER PRIMARY KEY, "
            "customer_id INTEGER, transcript TEXT)"
        )
        db.executemany(
            "INSERT INTO training_examples (customer_id, transcript) VALUES (?, ?)",
            [(1, "hello"), (2, "help"), (3, "hi")],
        )
    return f"sqlite:///{path}"


def _sqlite_examples(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT customer_id FROM training_examples ORDER BY id")
        return [row[0] for row in rows]


def _sqlite_flags(path: Path) -> dict[int, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, ai_training_opt_out FROM customers"))


@pytest.fixture
def pg_store() -> str:
    """A separate PostgreSQL database playing the CRM, one per test worker."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    params = connection.settings_dict
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    # Named after the suite's own database, so two suites on one server
    # (two checkouts) keep apart.
    suite = str(params["NAME"]).removeprefix("test_")
    name = f"privacydesk_consent_store_{suite}_{worker}".lower()
    base = {
        "host": params["HOST"] or "127.0.0.1",
        "port": params["PORT"] or 5432,
        "user": params["USER"],
        "password": params["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **base) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **base) as store:
        store.execute("DROP TABLE IF EXISTS training_examples, customers")
        store.execute(
            "CREATE TABLE customers (id serial PRIMARY KEY, email text, crm_id text, "
            "ai_training_opt_out boolean NOT NULL DEFAULT false)"
        )
        store.execute(
            "INSERT INTO customers (email, crm_id) VALUES "
            "('ADA@example.com', NULL), (NULL, 'C-1001'), ('bob@example.com', 'C-2')"
        )
        store.execute(
            "CREATE TABLE training_examples (id serial PRIMARY KEY, "
            "customer_id integer, transcript text)"
        )
    return f"postgresql://{base['user']}@{base['host']}:{base['port']}/{name}"


def _pg_flags(dsn: str) -> dict[int, bool]:
    with psycopg.connect(dsn) as store:
        return dict(store.execute("SELECT id, ai_training_opt_out FROM customers"))


def _connector(dsn: str, *, kind: str = "sql", name: str = "crm-db") -> Connector:
    config = _map(dsn) if kind == "sql" else {}
    return Connector.objects.create(name=name, kind=kind, config=config)


@pytest.fixture
def ada_with_crm_id(ada: Any) -> Any:
    subject_link_identifiers(
        subject=ada, claims=identity_claims({"customer_ids": {"crm": "C-1001"}})
    )
    return ada


def test_withdrawal_sets_the_flag_in_a_sqlite_store(
    ada_with_crm_id, choose, officer_actor, purpose, tmp_path
):
    # given a CRM table linked to ai_training
    path = tmp_path / "crm.sqlite3"
    connector = _connector(_sqlite_store(path))
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )
    choose(ada_with_crm_id, "ai_training", True)

    # when Ada withdraws
    recorded = choose(ada_with_crm_id, "ai_training", False)

    # then both of her rows are flagged (e-mail matched case-blind), Bob's not
    assert _sqlite_flags(path) == {1: 1, 2: 1, 3: 0}
    propagation = ConsentPropagation.objects.get(event=recorded.event)
    assert propagation.status == "succeeded"
    assert propagation.records_changed == 2
    assert propagation.attempts == 1
    assert propagation.started_at
    assert propagation.finished_at
    audit = AuditEvent.objects.get(action="consent.propagation_succeeded")
    assert audit.data["changed"] == 2
    assert "example.com" not in str(audit.data)


def test_withdrawal_sets_the_flag_in_a_postgresql_store(
    ada_with_crm_id, choose, officer_actor, purpose, pg_store
):
    connector = _connector(pg_store)
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )

    choose(ada_with_crm_id, "ai_training", False)

    assert _pg_flags(pg_store) == {1: True, 2: True, 3: False}
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "succeeded"
    assert propagation.records_changed == 2


def test_an_unreachable_store_is_retried_then_failed(
    ada, choose, officer_actor, purpose, pg_store, settings
):
    # given a store whose address is wrong
    settings.TASK_MAX_ATTEMPTS = 3
    settings.TASK_RETRY_BASE_SECONDS = 0
    connector = _connector("postgresql://postgres@127.0.0.1:1/nowhere")
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )

    # when Ada withdraws
    choose(ada, "ai_training", False)

    # then every attempt is recorded and the job ends failed, not done
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert propagation.attempts == 3
    assert "connection refused" in propagation.last_error
    outcomes = list(
        PropagationAttempt.objects.filter(propagation=propagation)
        .order_by("number")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["retry", "retry", "failed"]
    assert AuditEvent.objects.filter(action="consent.propagation_failed").count() == 1
    assert _pg_flags(pg_store)[1] is False


def test_a_retry_after_fixing_the_store_succeeds(
    ada,
    choose,
    officer_actor,
    purpose,
    pg_store,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.TASK_MAX_ATTEMPTS = 1
    connector = _connector("postgresql://postgres@127.0.0.1:1/nowhere")
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"

    connector.config = _map(pg_store)
    connector.save()
    with django_capture_on_commit_callbacks(execute=True):
        propagation_retry(actor=officer_actor, propagation=propagation)

    propagation.refresh_from_db()
    assert propagation.status == "succeeded"
    assert _pg_flags(pg_store)[1] is True


def test_a_missing_table_fails_at_once(ada, choose, officer_actor, purpose, tmp_path):
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    connector = _connector(f"sqlite:///{path}")
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert propagation.attempts == 1
    assert "no such table" in propagation.last_error


def test_other_kinds_are_recorded_as_unsupported_never_as_done(
    ada, choose, officer_actor, purpose
):
    # (http and pull: tests/consent/test_propagation_http.py and _pull.py)
    connector = _connector("", kind="manual", name="zendesk-by-hand")
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action={"job": "set_training_opt_out"},
    )

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "unsupported"
    assert "not supported yet" in propagation.last_error
    assert AuditEvent.objects.filter(action="consent.propagation_unsupported").exists()
    assert not AuditEvent.objects.filter(
        action="consent.propagation_succeeded"
    ).exists()


def test_nothing_propagates_for_purposes_not_marked_or_grants(
    ada, choose, officer_actor, purpose, tmp_path
):
    connector = _connector(_sqlite_store(tmp_path / "crm.sqlite3"))
    analytics = purpose("analytics")
    purpose_connector_link(
        actor=officer_actor, purpose=analytics, connector=connector, action=FLAG
    )
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )

    choose(ada, "analytics", False)  # analytics is not marked for propagation
    choose(ada, "ai_training", True)  # a grant propagates nothing

    assert not ConsentPropagation.objects.exists()
    purpose_update(actor=officer_actor, purpose=analytics, propagate=True)
    choose(ada, "analytics", True)
    choose(ada, "analytics", False)
    assert ConsentPropagation.objects.count() == 1


def test_link_actions_are_validated_naming_the_path(officer_actor, purpose, tmp_path):
    connector = _connector(f"sqlite:///{tmp_path / 'x.sqlite3'}")

    def refused(action: dict[str, Any]) -> str | None:
        with pytest.raises(ValidationFailed) as error:
            purpose_connector_link(
                actor=officer_actor,
                purpose=purpose("ai_training"),
                connector=connector,
                action=action,
            )
        return error.value.field

    injected = {"set": {"table": "customers; DROP TABLE x", "column": "f", "value": 1}}
    assert refused(injected) == "action.set.table"
    assert refused({"set": {"table": "orders", "column": "f", "value": 1}}) == (
        "action.set.table"
    )  # not in the connector's map
    assert refused({"set": {"table": "customers", "column": "f"}}) == "action.set.value"
    assert refused({"truncate": {"table": "customers"}}) == "action.truncate"
    assert not PurposeConnector.objects.exists()


def test_withdrawal_can_delete_the_subjects_training_copies(
    ada, choose, officer_actor, purpose, tmp_path
):
    path = tmp_path / "crm.sqlite3"
    connector = _connector(_sqlite_store(path))
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=DELETE_COPIES,
    )

    choose(ada, "ai_training", False)

    # Ada is customer 1 (by e-mail): her copy goes, the others stay
    assert _sqlite_examples(path) == [2, 3]
    assert ConsentPropagation.objects.get().records_changed == 1


def test_the_sweeper_resends_a_lost_job(
    ada, choose, officer_actor, purpose, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "crm.sqlite3"
    connector = _connector(_sqlite_store(path))
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )
    # a withdrawal whose message never reached a worker
    consent_set(
        actor=officer_actor,
        subject=ada,
        purpose="ai_training",
        granted=False,
        channel="dashboard",
    )  # on_commit never runs inside the test transaction: the message is "lost"
    ConsentPropagation.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        swept = propagations_sweep()

    assert swept == {
        "revived": 0,
        "requeued": 1,
        "leases_expired": 0,
        "leases_failed": 0,
    }
    assert ConsentPropagation.objects.get().status == "succeeded"
    assert _sqlite_flags(path)[1] == 1


def test_the_sweeper_revives_a_job_a_dead_worker_left_and_records_its_try(
    ada, officer_actor, purpose, tmp_path, django_capture_on_commit_callbacks
):
    # given a withdrawal a worker claimed (running, attempt 1) and then died on
    path = tmp_path / "crm.sqlite3"
    connector = _connector(_sqlite_store(path))
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=FLAG,
    )
    consent_set(
        actor=officer_actor,
        subject=ada,
        purpose="ai_training",
        granted=False,
        channel="dashboard",
    )
    long_ago = timezone.now() - timedelta(hours=1)
    ConsentPropagation.objects.update(
        status="running", attempts=1, started_at=long_ago, enqueued_at=long_ago
    )
    # its attempt row opened when the try began, as propagation_run does
    PropagationAttempt.objects.create(
        propagation=ConsentPropagation.objects.get(), number=1, started_at=long_ago
    )

    # when the sweeper runs
    with django_capture_on_commit_callbacks(execute=True):
        swept = propagations_sweep()

    # then the job is sent again and done, and the lost try is on record,
    # closed, as request tasks record theirs (privacydesk.retry)
    assert swept["revived"] == 1
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "succeeded"
    tries = list(propagation.attempt_rows.order_by("number"))
    assert [(t.number, t.outcome, t.error) for t in tries[:1]] == [
        (1, "retry", "worker lost; re-queued")
    ]
    assert all(t.finished_at is not None for t in tries)
    assert _sqlite_flags(path)[1] == 1
