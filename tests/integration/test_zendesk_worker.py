"""Zendesk end to end through a real worker process: an erasure and an
access request filed, verified, run against the Zendesk stand-in (a real
HTTP server in this process, on loopback), and closed."""

from __future__ import annotations

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from connectors.models import Connector
from dsr.models import Request, RequestTask
from standins.zendesk import start
from standins.zendesk.state import REDACTED, user_id
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]
TOKEN = "zd-worker-token-0123456789"
DISCLOSURE = {
    "purposes": ["Customer support"],
    "recipients": ["Zendesk, Inc. (processor)"],
    "retention": "Tickets are kept 24 months after the last reply.",
    "source": "Provided by you when contacting support.",
    "automated_decision_making": {"not_applicable": "No automated decisions."},
    "transfers": {"not_applicable": "Data stays in the EU."},
}


@pytest.fixture
def standin():
    server = start(token=TOKEN)
    yield server
    server.stop()


@pytest.fixture
def zendesk(standin) -> Connector:
    return Connector.objects.create(
        name="zendesk",
        kind="zendesk",
        config={
            "subdomain": "demo",
            "email": "agent@example.com",
            "base_url": standin.url,
        },
        secrets={"api_token": TOKEN},
        data_categories=["contact", "support_ticket", "support_message"],
        disclosure=DISCLOSURE,
    )


def _closed(request: Request) -> Request | None:
    request.refresh_from_db()
    return request if not request.is_open else None


def test_erasure_end_to_end(worker, zendesk, standin, make_request) -> None:
    user = dict(standin.account.users[user_id(5)])
    tickets = standin.account.tickets_of(user["id"])

    request = make_request(
        kind="erasure", verified=True, identity={"email": user["email"]}
    )
    request = wait_for(lambda: _closed(request), what="the erasure", timeout=60)

    assert request.status == "completed", request.status_reason
    erase = RequestTask.objects.get(request=request, action="erase")
    assert erase.status == "succeeded"
    # permanently deleted in the stand-in; the kept tickets' comments redacted
    assert user["id"] in standin.account.purged
    for ticket in tickets:
        for comment in standin.account.comments[ticket["id"]]:
            if comment["author_id"] == user["id"]:
                assert set(comment["body"]) <= {REDACTED, " "}
            assert user["email"] not in comment["body"]


def test_access_end_to_end(worker, zendesk, standin, make_request) -> None:
    user = dict(standin.account.users[user_id(6)])

    request = make_request(
        kind="access", verified=True, identity={"email": user["email"]}
    )
    request = wait_for(lambda: _closed(request), what="the access", timeout=60)

    assert request.status == "completed", request.status_reason
    task = RequestTask.objects.get(request=request, action="access")
    assert task.records_found == 1 + 2 + 2 + 8  # user, identities, tickets, comments


def test_a_revoked_token_fails_the_task_naming_auth(
    worker, zendesk, standin, make_request
) -> None:
    standin.token = "revoked-by-an-admin"
    user = dict(standin.account.users[user_id(7)])

    request = make_request(
        kind="erasure", verified=True, identity={"email": user["email"]}
    )
    task = wait_for(
        lambda: RequestTask.objects.filter(
            request=request, action="erase", status="failed"
        ).first(),
        what="the erase task to fail",
        timeout=60,
    )

    assert "auth refused (HTTP 401)" in task.last_error
    assert user["email"] not in task.last_error
    assert user["id"] not in standin.account.purged
