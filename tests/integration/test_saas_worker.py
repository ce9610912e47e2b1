"""Each SaaS service end to end through a real worker process: an erasure
and an access request filed, verified, run against the service's stand-in
(a real HTTP server in this process, on loopback), and closed; a key
revoked by an admin fails the task naming auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from connectors.models import Connector
from dsr.models import Request, RequestTask
from tests.connectors.saas.services import SERVICES, Service
from tests.disclosure import DISCLOSURE
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]
TOKEN = "saas-worker-token-0123456789"


def _zendesk_kept_comments_redacted(standin: Any, user: dict[str, Any]) -> None:
    from standins.zendesk.state import REDACTED

    assert user["id"] in standin.account.purged
    for comments in standin.account.comments.values():
        for comment in comments:
            if comment["author_id"] == user["id"]:
                assert set(comment["body"]) <= {REDACTED, " "}
            assert user["email"] not in comment["body"]


def _freshdesk_tickets_went_with_the_contact(
    standin: Any, contact: dict[str, Any]
) -> None:
    state = standin.account.summary()
    assert contact["id"] in state["hard_deleted"]
    assert not [
        t
        for t in standin.account.tickets.values()
        if t["requester_id"] == contact["id"]
    ]
    assert state["deleted_tickets"]
    assert standin.account.list_contacts({"email": contact["email"]}) == []


def _hubspot_contact_gone_for_good(standin: Any, contact: dict[str, Any]) -> None:
    state = standin.account.summary()
    assert contact["id"] in state["gdpr_deleted"]
    assert contact["id"] not in state["archived"]  # deleted, not archived
    assert state["blocklisted"] == 0  # by id, never by an e-mail


def _gorgias_tickets_deleted_before_her(standin: Any, customer: dict[str, Any]) -> None:
    state = standin.account.summary()
    assert customer["id"] in state["deleted_customers"]
    assert standin.account.tickets_of(customer["id"]) == []
    assert standin.account.messages_from(customer["id"]) == []
    assert len(state["deleted_tickets"]) == 3
    assert standin.account.list_customers(customer["email"]) == []


def _front_conversations_deleted_for_good(
    standin: Any, contact: dict[str, Any]
) -> None:
    from standins.front.state import contact_id

    state = standin.account.summary()
    every = ["assigned", "unassigned", "archived", "trashed"]
    # hers went for good (trashed first); customer 4 and her conversations,
    # the one she was copied on too, stay
    assert len(state["deleted_conversations"]) == 2
    assert not set(state["deleted_conversations"]) & set(state["in_trash"])
    assert contact_id(4) in standin.account.contacts
    assert len(standin.account.conversations_of(contact_id(4), every)) == 4


def _salesforce_hard_deleted_with_her_cases(
    standin: Any, contact: dict[str, Any]
) -> None:
    org = standin.account
    assert contact["id"] in org.hard_deleted
    assert org.recycle_bin == set()  # for good, not in the Recycle Bin
    assert org.select("Case", "ContactId", [contact["id"]], all_rows=True) == []
    assert {job["state"] for job in org.jobs.values()} == {"JobComplete"}


def _helpscout_conversations_went_first(standin: Any, customer: dict[str, Any]) -> None:
    assert customer["id"] in standin.account.deleted_customers
    assert standin.account.conversations_of(customer["id"], every_status=True) == []
    # one by one before the customer (who then never has over 100)
    assert standin.stats.by_route["delete_conversation"] == 3
    assert standin.stats.by_route["delete_customer"] == 1


# what each service's erasure leaves in its stand-in, beyond `erased`
def _intercom_messages_redacted(standin: Any, contact: dict[str, Any]) -> None:
    for talk in standin.account.conversations.values():
        for message in [talk["source"], *talk["parts"]]:
            assert contact["email"] not in (message.get("body") or "")


def _openai_completions_deleted_hers_only(standin: Any, who: dict[str, Any]) -> None:
    state = standin.account.summary()
    assert len(state["deleted"]) == 3  # her three chats with the bot
    assert state["completions"] == 20 * 3 + 3 - 3  # the rest, and the evals, stay
    assert standin.stats.by_route["delete"] == 3


AFTER_ERASURE: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "openai": _openai_completions_deleted_hers_only,
    "azure_openai": _openai_completions_deleted_hers_only,
    "zendesk": _zendesk_kept_comments_redacted,
    "intercom": _intercom_messages_redacted,
    "freshdesk": _freshdesk_tickets_went_with_the_contact,
    "hubspot": _hubspot_contact_gone_for_good,
    "gorgias": _gorgias_tickets_deleted_before_her,
    "front": _front_conversations_deleted_for_good,
    "salesforce": _salesforce_hard_deleted_with_her_cases,
    "helpscout": _helpscout_conversations_went_first,
}


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> Service:
    return SERVICES[request.param]()


@pytest.fixture
def standin(service: Service) -> Iterator[Any]:
    server = service.start(token=TOKEN)
    yield server
    server.stop()


@pytest.fixture
def store(service: Service, standin: Any) -> Connector:
    return Connector.objects.create(
        name=service.kind,
        kind=service.kind,
        config=service.config(standin.url),
        secrets=service.secrets_of(TOKEN),
        data_categories=["contact", "support_ticket", "support_message"],
        disclosure=DISCLOSURE,
    )


def _closed(request: Request) -> Request | None:
    request.refresh_from_db()
    return request if not request.is_open else None


def test_erasure_end_to_end(worker, service, store, standin, make_request) -> None:
    subject = service.subject(standin, 5)
    assert service.records(standin, 5) >= 1  # she is held (with tickets, if any)

    request = make_request(
        kind="erasure", verified=True, identity={"email": subject["email"]}
    )
    if service.grace_days:
        _waits_on_the_vendor(service, standin, request, subject)
        return
    request = wait_for(lambda: _closed(request), what="the erasure", timeout=60)

    assert request.status == "completed", request.status_reason
    erase = RequestTask.objects.get(request=request, action="erase")
    assert erase.status == "succeeded"
    assert service.erased(standin, subject)
    AFTER_ERASURE[service.kind](standin, subject)


def _waits_on_the_vendor(
    service: Service, standin: Any, request: Request, subject: dict[str, Any]
) -> None:
    """Deleted, but destroyed only after the vendor's grace period: the
    erase task waits until then, and the request stays open."""
    erase = wait_for(
        lambda: RequestTask.objects.filter(
            request=request, action="erase", status="waiting"
        ).first(),
        what="the erase task to wait on the vendor",
        timeout=60,
    )
    assert service.erased(standin, subject)
    AFTER_ERASURE[service.kind](standin, subject)
    assert erase.next_attempt_at is not None
    days = (erase.next_attempt_at - erase.updated_at).total_seconds() / 86400
    assert service.grace_days - 0.01 < days <= service.grace_days + 0.01
    request.refresh_from_db()
    assert request.is_open


def test_access_end_to_end(worker, service, store, standin, make_request) -> None:
    subject = service.subject(standin, 6)
    expected = service.records(standin, 6)

    request = make_request(
        kind="access", verified=True, identity={"email": subject["email"]}
    )
    request = wait_for(lambda: _closed(request), what="the access", timeout=60)

    assert request.status == "completed", request.status_reason
    task = RequestTask.objects.get(request=request, action="access")
    # the subject and what hangs from it (HubSpot: the contact alone)
    assert task.records_found == expected >= 1


def test_a_revoked_key_fails_the_task_naming_auth(
    worker, service, store, standin, make_request
) -> None:
    standin.token = "revoked-by-an-admin"
    subject = service.subject(standin, 7)

    request = make_request(
        kind="erasure", verified=True, identity={"email": subject["email"]}
    )
    task = wait_for(
        lambda: RequestTask.objects.filter(
            request=request, action="erase", status="failed"
        ).first(),
        what="the erase task to fail",
        timeout=60,
    )

    assert "auth refused (HTTP 401)" in task.last_error
    assert subject["email"] not in task.last_error
    assert not service.erased(standin, subject)
