"""Fan-out end to end: a real worker process, PostgreSQL, Redis and a real
PostgreSQL support store, through crashes, outages and a flushed broker."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.test import override_settings

from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_postgres
from connectors.kinds.sql.values import hashed
from connectors.models import Connector
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution.sweeping import tasks_sweep
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

CUSTOMERS = 40


@pytest.fixture(scope="session")
def store_dsn() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    # Named after the suite's own database, so two suites on one server
    # (two checkouts) keep apart.
    suite = settings.DATABASES["default"]["NAME"].removeprefix("test_")
    name = f"pd_it_store_{suite}_{worker}".lower()
    with psycopg.connect(
        "postgresql://postgres@127.0.0.1/postgres", autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@127.0.0.1/{name}"


@pytest.fixture
def store(store_dsn: str) -> str:
    build_postgres(store_dsn, StoreSize(customers=CUSTOMERS, tickets_per_customer=3))
    return store_dsn


@pytest.fixture
def helpdesk(store: str) -> Connector:
    return Connector.objects.create(
        name="helpdesk",
        kind="sql",
        config={"dsn": store, "tables": SQL_CONNECTOR_TABLES},
        data_categories=["contact", "support_ticket", "ai_conversation"],
        disclosure=_DISCLOSURE,
    )


_DISCLOSURE: dict[str, Any] = {
    "purposes": ["Customer support", "Order handling"],
    "recipients": ["Example Helpdesk SaaS Ltd (processor)"],
    "retention": "Tickets are kept 24 months after the last reply.",
    "source": "Provided by you when contacting support.",
    "automated_decision_making": {"not_applicable": "No automated decisions."},
    "transfers": {"not_applicable": "Data stays in the EU."},
}


def _query(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def _closed(request: Request) -> Request | None:
    request.refresh_from_db()
    return request if not request.is_open else None


def _erase(make_request, customer_id: int) -> Request:
    return make_request(
        kind="erasure", verified=True, identity={"email": customer(customer_id).email}
    )


def _assert_erased_once(dsn: str, customer_id: int) -> None:
    subject = customer(customer_id)
    ((email, name, phone),) = _query(
        dsn, "SELECT email, name, phone FROM customers WHERE id = %s", (customer_id,)
    )
    # hashed exactly once: a second pass would hash the hash
    assert email == hashed(subject.email)
    assert name is None
    assert phone is None
    texts = _query(
        dsn,
        "SELECT m.body FROM messages m JOIN tickets t ON t.id = m.ticket_id "
        "WHERE t.customer_id = %s",
        (customer_id,),
    )
    assert texts
    assert all(
        subject.email not in body and subject.phone not in body for (body,) in texts
    )
    assert not _query(
        dsn,
        "SELECT 1 FROM ai_conversations WHERE customer_email = %s",
        (subject.email,),
    )


def test_erasure_end_to_end(worker, helpdesk, store, make_request) -> None:
    # given a customer with tickets, messages and AI logs
    untouched = customer(2)
    # when an erasure request is verified
    request = _erase(make_request, 1)
    # then the worker erases, verifies, and closes it as completed
    request = wait_for(lambda: _closed(request), what="the erasure to complete")
    assert request.status == "completed", request.status_reason
    _assert_erased_once(store, 1)
    verify = RequestTask.objects.get(request=request, action="verify_erasure")
    assert verify.status == "succeeded"
    assert verify.records_found == 0
    assert _query(store, "SELECT email FROM customers WHERE id = 2") == [
        (untouched.email,)
    ]


def test_a_batch_posted_to_the_api_is_run_by_the_worker(
    worker, helpdesk, store, make_api_client
) -> None:
    # given a CRM forwarding five verified access requests in one call
    _, http = make_api_client("requests:read", "requests:write", "requests:verify")
    items = [
        {
            "kind": "access",
            "regime": "gdpr",
            "identity": {"email": customer(customer_id).email},
            "verified": True,
        }
        for customer_id in range(30, 35)
    ]
    response = http.post("/api/v1/requests/batch/", {"requests": items}, format="json")
    assert response.status_code == 201, response.json()
    # then the worker runs every one's task and closes each as completed
    for row in response.json():
        request = Request.objects.get(public_id=row["id"])
        request = wait_for(lambda r=request: _closed(r), what="the batch to complete")
        assert request.status == "completed", request.status_reason
        task = RequestTask.objects.get(request=request, action="access")
        assert task.status == "succeeded"
        assert task.records_found > 0


def test_rectification_end_to_end(worker, helpdesk, store, make_request) -> None:
    request = make_request(
        kind="rectification",
        verified=True,
        identity={"email": customer(5).email},
        corrections={"name": "Ada King"},
    )
    request = wait_for(lambda: _closed(request), what="the rectification")
    assert request.status == "completed", request.status_reason
    assert _query(store, "SELECT name FROM customers WHERE id = 5") == [("Ada King",)]


def test_worker_killed_mid_batch_loses_nothing_and_erases_once(
    worker, helpdesk, store, make_request
) -> None:
    # given 12 erasure requests in flight
    requests = [_erase(make_request, customer_id) for customer_id in range(10, 22)]
    # when the worker is SIGKILLed as soon as the first tasks have run
    wait_for(
        lambda: RequestTask.objects.filter(status="succeeded").exists(),
        what="the first task to finish",
    )
    worker.kill()
    unfinished = RequestTask.objects.exclude(
        status__in=["succeeded", "failed", "exempted", "skipped"]
    ).count()
    assert unfinished, "the kill should land while work is still in flight"
    worker.start()
    # then the sweeper re-queues what the dead worker held, and all complete
    with override_settings(TASK_STALE_AFTER_SECONDS=1, TASK_LOST_AFTER_SECONDS=1):

        def all_closed() -> bool:
            tasks_sweep()
            return all(_closed(r) for r in requests)

        wait_for(all_closed, timeout=90, what="every request to close")
    for request, customer_id in zip(requests, range(10, 22), strict=True):
        request.refresh_from_db()
        assert request.status == "completed", request.status_reason
        _assert_erased_once(store, customer_id)
    # and every attempt is on record and closed, the killed ones as lost
    tasks = RequestTask.objects.filter(request__in=requests)
    for task in tasks:
        assert task.tries.count() == task.attempts, task.pk
        assert not task.tries.filter(finished_at__isnull=True).exists(), task.pk
    lost = TaskAttempt.objects.filter(task__in=tasks, error="worker lost; re-queued")
    assert lost.count() == tasks.filter(attempts__gt=1).count()


def test_store_down_retries_then_fails_never_completed(
    worker, store, make_request, settings
) -> None:
    settings.TASK_MAX_ATTEMPTS = 3  # as the worker's environment says
    # given a store that cannot be reached (nothing listens on port 1)
    Connector.objects.create(
        name="down",
        kind="sql",
        config={
            "dsn": "postgresql://postgres@127.0.0.1:1/nowhere",
            "tables": SQL_CONNECTOR_TABLES,
        },
        disclosure=_DISCLOSURE,
    )
    request = _erase(make_request, 3)
    request = wait_for(lambda: _closed(request), timeout=60, what="retries to run out")
    task = RequestTask.objects.get(request=request, action="erase")
    assert request.status == "failed"
    assert "down erase failed" in request.status_reason
    assert task.status == "failed"
    assert task.attempts == 3
    assert task.tries.count() == 3


def test_flushed_broker_loses_nothing(
    worker, broker_url, helpdesk, store, make_request
) -> None:
    import redis

    # given requests whose task messages are waiting in Redis, no worker running
    worker.stop()
    requests = [_erase(make_request, customer_id) for customer_id in range(30, 34)]
    # when Redis is flushed (a restart without persistence)
    redis.Redis.from_url(broker_url).flushdb()
    worker.start()
    # then the sweeper finds the pending tasks in PostgreSQL and re-sends them
    with override_settings(TASK_LOST_AFTER_SECONDS=1):

        def all_closed() -> bool:
            tasks_sweep()
            return all(_closed(r) for r in requests)

        wait_for(all_closed, timeout=60, what="every request to close")
    for request, customer_id in zip(requests, range(30, 34), strict=True):
        assert request.status == "completed", request.status_reason
        _assert_erased_once(store, customer_id)


def _sessions_opened(database: str) -> int:
    with psycopg.connect("postgresql://postgres@127.0.0.1/postgres") as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        ((count,),) = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchall()
        return int(count)


def test_the_worker_keeps_its_database_connections_between_tasks(
    worker, helpdesk, store, make_request
) -> None:
    # given a warm worker (each pool process has connected once)
    warm = [_erase(make_request, 20 + i) for i in range(2)]
    for request in warm:
        wait_for(lambda r=request: _closed(r), timeout=60, what="warm-up")
    database = connection.settings_dict["NAME"]
    before = _sessions_opened(database)

    # when eight more erasures run (an erase task, a package of notices and
    # an evidence pack each: dozens of Celery tasks)
    requests = [_erase(make_request, 1 + i) for i in range(8)]
    for request in requests:
        wait_for(lambda r=request: _closed(r), timeout=90, what="erasures closed")
    wait_for(
        lambda: all(
            Request.objects.get(pk=r.pk).evidence_packs.exists() for r in requests
        ),
        timeout=90,
        what="evidence packs",
    )

    # then the two pool processes opened few new sessions, not one per task
    opened = _sessions_opened(database) - before
    assert opened < 8, f"{opened} new database sessions for 8 requests"
