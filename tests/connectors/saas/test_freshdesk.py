"""The freshdesk kind against the Freshdesk stand-in (a real HTTP server on
loopback keeping state): finding a contact by e-mail, phone or mobile (and
one an agent soft-deleted), access past the tickets list's 30-day default
window, the hard delete that takes their tickets with it and its
verification, rectification, and a retried erasure."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas import SaasConnector
from standins.freshdesk import StandIn, start
from standins.freshdesk.state import AGENT_ID, contact_id
from tests.connectors.saas.services import SERVICES, SUBJECT, identity_of
from tests.standin_fixtures import standin_fixture

pytestmark = pytest.mark.django_db
KEY = "fd-api-key-0123456789"
FRESHDESK = SERVICES["freshdesk"]()


standin = standin_fixture(start, KEY)


def _connector(standin: StandIn, **extra: Any) -> SaasConnector:
    return FRESHDESK.connector(standin, token=KEY, name="freshdesk-test", **extra)


def _contact(standin: StandIn, number: int = SUBJECT) -> dict[str, Any]:
    return dict(standin.account.contacts[contact_id(number)])


def _state(standin: StandIn) -> dict[str, Any]:
    with urllib.request.urlopen(f"{standin.url}/_standin/state.json") as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def test_access_reads_every_ticket_not_only_the_last_30_days(
    standin: StandIn,
) -> None:
    contact = _contact(standin)
    recent = standin.account.tickets_of(contact["id"])  # the list's default

    records = list(_connector(standin).access(identity_of(contact)))

    # the contact, 3 tickets (2 of them older than 30 days), 3 replies each
    assert len(recent) == 1
    assert len(records) == FRESHDESK.records(standin, SUBJECT) == 1 + 3 + 9
    categories = {r.location: r.category for r in records}
    assert categories == {
        "contact": "contact",
        "ticket": "support_ticket",
        "conversation": "support_message",
    }
    (found,) = [r for r in records if r.location == "contact"]
    assert found.key == str(contact["id"])
    assert found.data["email"] == contact["email"]
    assert "active" not in found.data  # only the definition's fields
    tickets = [r for r in records if r.location == "ticket"]
    # include=description: the customer's first message is in the package
    assert all(t.data["description_text"] for t in tickets)
    assert {int(t.key) for t in tickets} == {
        t["id"]
        for t in standin.account.tickets.values()
        if t["requester_id"] == contact["id"]
    }
    # pages of 2 (the connector's page_size): 2, then 1, shorter than asked,
    # ends the list without asking for an empty page, per ticket
    assert standin.stats.by_route["conversations"] == 3 * 2


def test_a_contact_is_found_by_phone_by_mobile_and_when_soft_deleted(
    standin: StandIn,
) -> None:
    with_phone, with_mobile, deleted = (_contact(standin, n) for n in (3, 4, 5))
    assert with_phone["phone"]
    assert with_mobile["mobile"]
    standin.account.soft_delete(deleted["id"])  # an agent deleted it earlier
    freshdesk = _connector(standin)

    def found(identity: Identity) -> set[str]:
        return {r.key for r in freshdesk.access(identity) if r.location == "contact"}

    assert found(Identity(phones=(with_phone["phone"],))) == {str(with_phone["id"])}
    assert found(Identity(phones=(with_mobile["mobile"],))) == {str(with_mobile["id"])}
    assert found(Identity(emails=(deleted["email"],))) == {str(deleted["id"])}
    assert found(Identity(emails=("nobody@example.com",))) == set()


def test_erasure_hard_deletes_the_contact_and_their_tickets(
    standin: StandIn,
) -> None:
    contact = _contact(standin)
    tickets = [
        t["id"]
        for t in standin.account.tickets.values()
        if t["requester_id"] == contact["id"]
    ]
    other = _contact(standin, 4)
    before = _state(standin)

    receipt = _connector(standin).erase(identity_of(contact))

    state = _state(standin)
    assert contact["id"] in state["hard_deleted"]
    assert state["contacts"] == before["contacts"] - 1
    assert set(tickets) <= set(state["deleted_tickets"])
    assert state["tickets"] == before["tickets"] - 3
    assert standin.account.list_contacts({"email": contact["email"]}) == []
    assert standin.stats.by_route["hard_delete"] == 1  # force=true: one call
    assert "soft_delete" not in standin.stats.by_route
    assert receipt.per_location["contact"] == {"found": 1, "changed": 1}
    assert receipt.per_location["ticket"] == {"found": 3, "changed": 0}
    assert receipt.knows("ids.contact") == (str(contact["id"]),)
    assert _contact(standin, 4) == other  # nobody else touched
    # verification, from the receipt alone, finds nothing
    again = ErasureReceipt.from_json(receipt.to_json())
    assert _connector(standin).verify_erased(identity_of(contact), again).found == 0


def test_a_soft_deleted_contact_is_erased_for_good(standin: StandIn) -> None:
    contact = _contact(standin)
    standin.account.soft_delete(contact["id"])

    receipt = _connector(standin).erase(Identity(emails=(contact["email"],)))

    assert contact["id"] in standin.account.hard_deleted
    assert receipt.per_location["contact"]["changed"] == 1


def test_erasing_twice_changes_nothing_the_second_time(standin: StandIn) -> None:
    contact = _contact(standin)
    first = _connector(standin).erase(identity_of(contact))

    second = _connector(standin).erase(identity_of(contact))

    assert first.changed == 1
    assert (second.found, second.changed) == (0, 0)
    assert standin.stats.by_route["hard_delete"] == 1


def test_verification_finds_a_contact_that_came_back(standin: StandIn) -> None:
    contact = _contact(standin)
    receipt = _connector(standin).erase(identity_of(contact))
    # she writes in again: Freshdesk makes a new contact from her e-mail
    standin.account.contacts[99] = {**contact, "id": 99}

    outcome = _connector(standin).verify_erased(identity_of(contact), receipt)

    assert outcome.found == 1
    assert outcome.per_location["contact"]["found"] == 1


def test_rectification_writes_name_email_and_phone(standin: StandIn) -> None:
    contact = _contact(standin)

    outcome = _connector(standin).rectify(
        identity_of(contact),
        {
            "name": "Ada King",
            "email": "ada.king@example.org",
            "phone": "+44 20 7946 0000",
        },
    )

    assert (outcome.found, outcome.changed) == (1, 1)
    stored = standin.account.contacts[contact["id"]]
    assert (stored["name"], stored["email"], stored["phone"]) == (
        "Ada King",
        "ada.king@example.org",
        "+44 20 7946 0000",
    )
    assert stored["mobile"] == contact["mobile"]
    nobody = _connector(standin).rectify(
        Identity(emails=("nobody@example.com",)), {"name": "X"}
    )
    assert (nobody.found, nobody.changed) == (0, 0)


def test_the_stand_in_keeps_the_documented_refusals(standin: StandIn) -> None:
    # the hard delete of a contact not soft-deleted needs force=true, and
    # the conversations of an agent's reply stay the agent's
    contact = _contact(standin)
    assert standin.account.hard_delete(contact["id"], force=False) is False
    assert contact["id"] in standin.account.contacts
    tid = next(
        t
        for t, v in standin.account.tickets.items()
        if v["requester_id"] == contact["id"]
    )
    authors = {c["user_id"] for c in standin.account.conversations[tid]}
    assert authors == {AGENT_ID, contact["id"]}


def test_an_erasure_whose_delete_failed_is_finished_by_its_retry(
    standin: StandIn,
) -> None:
    contact = _contact(standin)
    job = Job(
        task_id="5b1c7e52-0000-4000-8000-00000000f13d",
        request_reference="DSR-2026-000014",
        action=Action.ERASE,
        identity=identity_of(contact),
    )
    standin.failing = {"hard_delete"}
    with pytest.raises(ConnectorError) as cut:
        _connector(standin).run(job, sink=None)  # type: ignore[arg-type]
    assert not cut.value.permanent
    assert contact["id"] in standin.account.contacts

    standin.failing = set()
    receipt = _connector(standin).run(job, sink=None)  # type: ignore[arg-type]

    assert isinstance(receipt, ErasureReceipt)
    assert contact["id"] in standin.account.hard_deleted
    assert _connector(standin).verify_erased(job.identity, receipt).found == 0
