"""Freshdesk end to end through a real worker process: an erasure and an
access request filed, verified, run against the Freshdesk stand-in (a real
HTTP server in this process, on loopback), and closed; a revoked key fails
the task naming auth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from connectors.models import Connector
from dsr.models import Request, RequestTask
from standins.freshdesk import StandIn, start
from standins.freshdesk.state import contact_id
from tests.disclosure import DISCLOSURE
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]
KEY = "fd-worker-key-0123456789"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = start(token=KEY)
    yield server
    server.stop()


@pytest.fixture
def freshdesk(standin: StandIn) -> Connector:
    return Connector.objects.create(
        name="freshdesk",
        kind="freshdesk",
        config={"domain": "demo", "base_url": standin.url},
        secrets={"api_key": KEY},
        data_categories=["contact", "support_ticket", "support_message"],
        disclosure=DISCLOSURE,
    )


def _closed(request: Request) -> Request | None:
    request.refresh_from_db()
    return request if not request.is_open else None


def test_erasure_end_to_end(worker, freshdesk, standin, make_request) -> None:
    contact = dict(standin.account.contacts[contact_id(5)])
    tickets = {
        t
        for t, v in standin.account.tickets.items()
        if v["requester_id"] == contact["id"]
    }

    request = make_request(
        kind="erasure", verified=True, identity={"email": contact["email"]}
    )
    request = wait_for(lambda: _closed(request), what="the erasure", timeout=60)

    assert request.status == "completed", request.status_reason
    erase = RequestTask.objects.get(request=request, action="erase")
    assert erase.status == "succeeded"
    # hard-deleted in the stand-in, their tickets with them
    state = standin.account.summary()
    assert contact["id"] in state["hard_deleted"]
    assert tickets <= set(state["deleted_tickets"])
    assert standin.account.list_contacts({"email": contact["email"]}) == []


def test_access_end_to_end(worker, freshdesk, standin, make_request) -> None:
    contact = dict(standin.account.contacts[contact_id(6)])

    request = make_request(
        kind="access", verified=True, identity={"email": contact["email"]}
    )
    request = wait_for(lambda: _closed(request), what="the access", timeout=60)

    assert request.status == "completed", request.status_reason
    task = RequestTask.objects.get(request=request, action="access")
    assert task.records_found == 1 + 3 + 9  # contact, tickets, conversations


def test_a_revoked_key_fails_the_task_naming_auth(
    worker, freshdesk, standin, make_request
) -> None:
    standin.token = "revoked-by-an-admin"
    contact = dict(standin.account.contacts[contact_id(7)])

    request = make_request(
        kind="erasure", verified=True, identity={"email": contact["email"]}
    )
    task = wait_for(
        lambda: RequestTask.objects.filter(
            request=request, action="erase", status="failed"
        ).first(),
        what="the erase task to fail",
        timeout=60,
    )

    assert "auth refused (HTTP 401)" in task.last_error
    assert contact["email"] not in task.last_error
    assert contact["id"] in standin.account.contacts
