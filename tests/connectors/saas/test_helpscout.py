"""The helpscout kind against the Help Scout stand-in (a real HTTP server on
loopback keeping state, with its own OAuth2 token endpoint): access to the
customer, their e-mail and phone entries, every conversation (closed ones
too) and its threads; erasure that deletes the conversations one by one and
then the customer, verified by searching again; a retried erasure; no
rectification; one token for the whole run."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas import SaasConnector
from standins.helpscout import StandIn, start
from standins.helpscout.state import customer_id
from tests.connectors.saas.services import SERVICES, SUBJECT, identity_of
from tests.standin_fixtures import standin_fixture

pytestmark = pytest.mark.django_db
SECRET = "hs-app-secret-0123456789"
HELPSCOUT = SERVICES["helpscout"]()

standin = standin_fixture(start, SECRET)


def _connector(standin: StandIn, **extra: Any) -> SaasConnector:
    return HELPSCOUT.connector(standin, token=SECRET, name="helpscout-test", **extra)


def _subject(standin: StandIn, number: int = SUBJECT) -> dict[str, Any]:
    return HELPSCOUT.subject(standin, number)


def test_access_reads_the_customer_entries_and_every_conversation(
    standin: StandIn,
) -> None:
    subject = _subject(standin)  # customer 3: two e-mails, a phone
    talks = standin.account.conversations_of(subject["id"], every_status=True)
    active = standin.account.conversations_of(subject["id"], every_status=False)

    records = list(_connector(standin).access(identity_of(subject)))

    assert len(active) < len(talks) == 3  # a closed one, found by status=all
    assert len(records) == HELPSCOUT.records(standin, SUBJECT) == 1 + 3 + 3 + 9
    by_type: dict[str, list[Any]] = {}
    for record in records:
        by_type.setdefault(record.location, []).append(record)
    assert {k: len(v) for k, v in by_type.items()} == {
        "customer": 1,
        "email": 2,
        "phone": 1,
        "conversation": 3,
        "thread": 9,
    }
    assert {r.category for r in by_type["thread"]} == {"support_message"}
    (customer,) = by_type["customer"]
    assert customer.key == str(subject["id"])
    assert customer.data["firstName"] == subject["name"].split()[0]
    assert "_embedded" not in customer.data  # only the definition's fields
    assert {r.data["value"] for r in by_type["email"]} == {
        e["value"] for e in standin.account.customers[subject["id"]]["emails"]
    }
    assert {int(r.key) for r in by_type["conversation"]} == {c["id"] for c in talks}
    # pages of 2 followed by _links.next: conversations 2 pages, threads 2 each
    assert standin.stats.by_route["conversations"] == 2
    assert standin.stats.by_route["threads"] == 3 * 2
    # one token for the whole run (it lives two days)
    assert standin.issuer is not None
    assert standin.issuer.fetched == 1


def test_a_customer_is_found_only_by_an_equal_email(standin: StandIn) -> None:
    # customer 1's address is contained in no other, but a part of it
    # matches many: the containing search is narrowed to equal e-mails
    subject = _subject(standin, 1)
    part = subject["email"].split("@")[1]
    helpscout = _connector(standin)

    def found(identity: Identity) -> set[str]:
        return {r.key for r in helpscout.access(identity) if r.location == "customer"}

    assert len(standin.account.find_customers(part)) > 1
    assert found(Identity(emails=(part,))) == set()
    assert found(Identity(emails=(subject["email"].upper(),))) == {str(subject["id"])}
    # the second (work) address of customer 3 finds the same customer
    three = standin.account.customers[customer_id(3)]
    work = three["emails"][1]["value"]
    assert found(Identity(emails=(work,))) == {str(three["id"])}


def test_erasure_deletes_the_conversations_then_the_customer(
    standin: StandIn,
) -> None:
    subject = _subject(standin)
    listed = standin.account.conversations_of(subject["id"], every_status=True)
    talks = {c["id"] for c in listed}
    other = _subject(standin, 4)
    helpscout = _connector(standin)

    receipt = helpscout.erase(identity_of(subject))

    assert subject["id"] in standin.account.deleted_customers
    assert talks <= standin.account.deleted_conversations
    assert standin.stats.by_route["delete_conversation"] == 3
    assert standin.stats.by_route["delete_customer"] == 1
    assert receipt.per_location["customer"] == {"found": 1, "changed": 1}
    assert receipt.per_location["conversation"] == {"found": 3, "changed": 3}
    assert receipt.per_location["thread"] == {"found": 9, "changed": 0}
    # what the erasure knew: both e-mails and the phone
    assert standin.account.summary()["customers"] == 19
    assert len(receipt.knows("emails")) == 2
    assert len(receipt.knows("phones")) == 1
    assert receipt.knows("ids.customer") == (str(subject["id"]),)
    assert other["id"] in standin.account.customers  # nobody else

    check = helpscout.verify_erased(identity_of(subject), receipt)
    assert check.found == 0
    restored = ErasureReceipt.from_json(receipt.to_json())
    assert _connector(standin).verify_erased(Identity(), restored).found == 0


def test_verification_finds_a_customer_that_is_still_there(
    standin: StandIn,
) -> None:
    subject = _subject(standin)
    receipt = ErasureReceipt(kind="helpscout")
    receipt.known["ids.customer"] = (str(subject["id"]),)

    check = _connector(standin).verify_erased(identity_of(subject), receipt)

    # found by its e-mail, and Get Customer still answers for its id
    assert check.per_location["customer"]["found"] == 2


def test_a_retried_erasure_changes_nothing(standin: StandIn) -> None:
    subject = _subject(standin)
    helpscout = _connector(standin)
    job = Job(
        task_id="task-hs-1",
        request_reference="DSR-2026-000001",
        action=Action.ERASE,
        identity=identity_of(subject),
    )
    first = helpscout.run(job, sink=None)  # type: ignore[arg-type]
    deleted = standin.stats.by_route.get("delete_customer", 0)

    again = _connector(standin).run(job, sink=None)  # type: ignore[arg-type]

    assert isinstance(first, ErasureReceipt)
    assert isinstance(again, ErasureReceipt)
    assert again.changed == 0
    assert standin.stats.by_route.get("delete_customer", 0) == deleted
    assert standin.stats.by_route["delete_conversation"] == 3


def test_a_customer_with_too_many_conversations_is_still_erased(
    standin: StandIn,
) -> None:
    # Delete Customer refuses over 100 conversations: deleting them first
    # keeps under the limit
    subject = _subject(standin)
    account = standin.account
    for _ in range(100):
        extra = account._new_id()
        account.conversations[extra] = {
            **account.conversations_of(subject["id"], every_status=True)[0],
            "id": extra,
        }
        account.threads[extra] = []
    assert account.delete_customer(subject["id"]) is False  # as the API: 403
    standin.per_window = 100_000

    _connector(standin, rate_limit_per_minute=100_000).erase(identity_of(subject))

    assert subject["id"] in account.deleted_customers
    assert standin.stats.by_route["delete_conversation"] == 103


def test_rectification_is_not_offered(standin: StandIn) -> None:
    # Overwrite Customer would null every field left out: not an action here
    helpscout = _connector(standin)
    assert Action.RECTIFY not in helpscout.actions
    assert Action.RECTIFY not in type(helpscout).actions
    with pytest.raises(ConnectorError) as refused:
        helpscout.rectify(identity_of(_subject(standin)), {"name": "X Y"})
    assert refused.value.permanent
    assert "cannot rectify customer records" in refused.value.message
