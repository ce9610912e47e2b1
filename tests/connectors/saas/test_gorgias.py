"""The gorgias kind against the Gorgias stand-in (a real HTTP server on
loopback keeping state): a customer found by her primary e-mail, access to
every ticket (one in the trash) and message through cursor pages, erasure
that deletes her tickets and then her, verified by id; a delete that left a
ticket behind caught by the verification; a customer merged into another
named, never reported erased; the "used/limit" rate header honoured;
rectification and a retried erasure."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas import SaasConnector
from standins.gorgias import StandIn
from standins.gorgias.state import customer_id
from tests.connectors.saas.services import SERVICES, SUBJECT, identity_of
from tests.standin_fixtures import WINDOW, short_window, standin_fixture, vendor_window

pytestmark = pytest.mark.django_db
KEY = "gorgias-api-key-0123456789"
GORGIAS = SERVICES["gorgias"]()


standin = standin_fixture(GORGIAS.start, KEY)


def _connector(standin: StandIn, **extra: Any) -> SaasConnector:
    return GORGIAS.connector(standin, token=KEY, name="gorgias-test", **extra)


def _customer(standin: StandIn, number: int = SUBJECT) -> dict[str, Any]:
    return dict(standin.account.customers[customer_id(number)])


def _tickets(standin: StandIn, customer: dict[str, Any]) -> set[int]:
    return {t["id"] for t in standin.account.tickets_of(customer["id"])}


def _state(standin: StandIn) -> dict[str, Any]:
    with urllib.request.urlopen(f"{standin.url}/_standin/state.json") as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def test_access_reads_every_ticket_and_message_through_cursor_pages(
    standin: StandIn,
) -> None:
    customer = _customer(standin)
    tickets = _tickets(standin, customer)

    records = list(_connector(standin).access(identity_of(customer)))

    # the customer, 3 tickets (one in the trash), 3 messages each
    assert len(records) == GORGIAS.records(standin, SUBJECT) == 1 + 3 + 9
    assert {r.location: r.category for r in records} == {
        "customer": "contact",
        "ticket": "support_ticket",
        "message": "support_message",
    }
    (found,) = [r for r in records if r.location == "customer"]
    assert found.key == str(customer["id"])
    assert found.data["email"] == customer["email"]
    assert {c["type"] for c in found.data["channels"]} == {"email", "phone"}
    assert "integrations" not in found.data  # only the definition's fields
    listed = {int(r.key) for r in records if r.location == "ticket"}
    assert listed == tickets
    trashed = [
        r for r in records if r.location == "ticket" if r.data["trashed_datetime"]
    ]
    assert len(trashed) == 1  # `trashed` defaults to true: listed too
    texts = [r.data["body_text"] for r in records if r.location == "message"]
    assert any(customer["email"] in text or customer["name"] in text for text in texts)
    # pages of 2 by cursor: 2 then 1 (next_cursor null ends it), per ticket
    assert standin.stats.by_route["messages"] == 3 * 2
    assert standin.stats.by_route["tickets"] == 2


def test_only_the_primary_address_finds_her(standin: StandIn) -> None:
    customer = _customer(standin)
    gorgias = _connector(standin)

    def found(identity: Identity) -> set[str]:
        return {r.key for r in gorgias.access(identity) if r.location == "customer"}

    assert found(Identity(emails=(customer["email"].upper(),))) == {str(customer["id"])}
    assert found(Identity(emails=("nobody@example.com",))) == set()


def test_erasure_deletes_her_tickets_then_her_and_verifies_by_id(
    standin: StandIn,
) -> None:
    customer = _customer(standin)
    tickets = _tickets(standin, customer)
    other = _customer(standin, 4)
    before = _state(standin)

    receipt = _connector(standin).erase(identity_of(customer))

    state = _state(standin)
    assert state["deleted_customers"] == [customer["id"]]
    assert set(state["deleted_tickets"]) == tickets
    assert state["tickets"] == before["tickets"] - 3
    assert standin.account.messages_from(customer["id"]) == []
    assert receipt.per_location["customer"] == {"found": 1, "changed": 1}
    assert receipt.per_location["ticket"] == {"found": 3, "changed": 3}
    assert receipt.per_location["message"] == {"found": 9, "changed": 0}
    assert set(receipt.knows("ids.ticket")) == {str(t) for t in tickets}
    assert _customer(standin, 4) == other  # nobody else touched
    assert _tickets(standin, other)
    # verification, from the receipt alone: searched again, and each
    # deleted customer and ticket asked by id (404)
    again = ErasureReceipt.from_json(receipt.to_json())
    calls = standin.stats.by_route.get("show_ticket", 0)
    outcome = _connector(standin).verify_erased(identity_of(customer), again)
    assert outcome.found == 0
    assert standin.stats.by_route["show_ticket"] == calls + 3
    assert standin.stats.by_route["show_customer"] == 1


def test_erasing_twice_changes_nothing_the_second_time(standin: StandIn) -> None:
    customer = _customer(standin)
    first = _connector(standin).erase(identity_of(customer))

    second = _connector(standin).erase(identity_of(customer))

    assert first.changed == 4
    assert (second.found, second.changed) == (0, 0)
    assert standin.stats.by_route["delete_customer"] == 1
    assert standin.stats.by_route["delete_ticket"] == 3


def test_verification_catches_a_ticket_the_delete_left_behind(
    standin: StandIn,
) -> None:
    # Gorgias does not document whether a delete is permanent: were it only
    # a move to the trash, the ticket would still answer by its id
    standin.account.soft_ticket_delete = True
    customer = _customer(standin)

    receipt = _connector(standin).erase(identity_of(customer))
    outcome = _connector(standin).verify_erased(identity_of(customer), receipt)

    assert outcome.per_location["ticket"]["found"] == 3
    assert outcome.per_location["customer"]["found"] == 0
    assert outcome.found == 3


def test_a_customer_merged_before_the_retry_is_named_not_reported_erased(
    standin: StandIn,
) -> None:
    customer, survivor = _customer(standin), _customer(standin, 4)
    job = Job(
        task_id="7d2e0c41-0000-4000-8000-00000000a301",
        request_reference="DSR-2026-000031",
        action=Action.ERASE,
        identity=identity_of(customer),
    )
    standin.failing = {"delete_customer"}
    with pytest.raises(ConnectorError) as cut:
        _connector(standin).run(job, sink=None)  # type: ignore[arg-type]
    assert not cut.value.permanent
    # meanwhile an agent merged her into another customer: her id answers
    # 301 and her search finds nobody (the survivor's primary e-mail stays)
    standin.failing = set()
    standin.account.merge(customer["id"], survivor["id"])

    with pytest.raises(ConnectorError) as merged:
        _connector(standin).run(job, sink=None)  # type: ignore[arg-type]

    assert merged.value.permanent
    assert "answered 301" in merged.value.message
    assert "merged into another one" in merged.value.message
    assert customer["email"] not in merged.value.message
    assert survivor["id"] in standin.account.customers  # never deleted blindly


def test_a_full_bucket_in_the_used_of_limit_header_pauses_before_a_429(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5 calls per window (the definition says how long), said only by
    # "used/limit"; our budget thinks it has plenty, the header alone keeps
    # the access within it
    short_window(standin, 5)
    vendor_window(monkeypatch, "gorgias", WINDOW)
    customer = _customer(standin)

    found = list(
        _connector(standin, rate_limit_per_minute=6000).access(identity_of(customer))
    )

    assert len(found) == GORGIAS.records(standin, SUBJECT)
    assert standin.stats.refused_429 == 0
    assert standin.stats.calls > 5  # it needed more than one window


def test_rectification_writes_name_and_email_and_names_the_phone(
    standin: StandIn,
) -> None:
    customer = _customer(standin)

    outcome = _connector(standin).rectify(
        identity_of(customer),
        {
            "name": "Ada King",
            "email": "ada.king@example.org",
            "phone": "+44 20 7946 0000",
        },
    )

    assert (outcome.found, outcome.changed) == (1, 1)
    assert "phone" in outcome.note
    stored = standin.account.customers[customer["id"]]
    assert (stored["name"], stored["email"]) == ("Ada King", "ada.king@example.org")
    assert stored["channels"] == customer["channels"]  # a phone is a channel
    nobody = _connector(standin).rectify(
        Identity(emails=("nobody@example.com",)), {"name": "X"}
    )
    assert (nobody.found, nobody.changed) == (0, 0)


def test_the_stand_in_keeps_the_documented_refusals(standin: StandIn) -> None:
    base = f"{standin.url}/api/tickets?customer_id=1&limit=101"
    request = urllib.request.Request(base)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 401  # no credentials
    header = _connector(standin)._walker().client.auth_header
    request.add_header("Authorization", header)
    with pytest.raises(urllib.error.HTTPError) as too_many:
        urllib.request.urlopen(request)
    assert too_many.value.code == 400  # limit at most 100
    assert "limit" in json.load(too_many.value)["error"]["data"]
