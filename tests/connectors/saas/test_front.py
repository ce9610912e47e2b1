"""The front kind against the Front stand-in (a real HTTP server on loopback
keeping state): a contact found by resource alias (one object or 404, the
e-mail in lower case, the phone in E.164), HAL lists paged by a full
`_pagination.next` URL, her conversations (the trash too) with messages
and comments, erasure by trash then permanent delete of every conversation
she is in (a CC'd one too) and of her contact, verification by id, a
retry after a cut, rectification of the name, next-page hosts."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ConnectorError, Identity
from connectors.kinds.saas import SaasConnector
from connectors.kinds.saas.budget import Budget
from connectors.kinds.saas.client import Client
from connectors.kinds.saas.walk import normalized
from standins.front import StandIn
from standins.front.state import TRASHED, contact_id
from tests.connectors.saas.services import SERVICES
from tests.front import TOKEN, front_standin
from tests.standin_fixtures import short_window

pytestmark = pytest.mark.django_db
standin = front_standin  # the fixture, by the name the tests use

FRONT = SERVICES["front"]()  # its stand-in and connector, as services.py says
EVERY = ["assigned", "unassigned", "archived", "trashed"]


def connector(standin: StandIn, *, token: str = TOKEN, **extra: Any) -> SaasConnector:
    return FRONT.connector(standin, token=token, **extra)


def person(standin: StandIn, number: int = 3) -> dict[str, Any]:
    return FRONT.subject(standin, number)


def identity_of(who: dict[str, Any]) -> Identity:
    return Identity(emails=(who["email"].upper(),), phones=(who["phone"],))


def _conversations(standin: StandIn, number: int) -> list[str]:
    found = standin.account.conversations_of(contact_id(number), EVERY)
    return [c["id"] for c in found]


def test_health_names_auth_and_the_config_takes_no_host(standin: StandIn) -> None:
    assert connector(standin).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        connector(standin, token="wrong-token").health()
    assert "auth refused (HTTP 401)" in refused.value.message
    assert "wrong-token" not in refused.value.message


def test_access_finds_her_by_alias_and_reads_every_conversation(
    standin: StandIn,
) -> None:
    who = person(standin, 4)  # four: one conversation in the trash, one CC'd

    records = list(connector(standin).access(identity_of(who)))

    by_type: dict[str, int] = {}
    for record in records:
        by_type[record.location] = by_type.get(record.location, 0) + 1
    talks = _conversations(standin, 4)
    # two archived, one in the trash, one assigned (with customer 5 in CC)
    assert len(talks) == 4
    assert by_type == {"contact": 1, "conversation": 4, "message": 12, "comment": 4}
    assert len(records) == FRONT.records(standin, 4)
    (contact,) = [r for r in records if r.location == "contact"]
    assert contact.key == who["id"]
    assert contact.category == "contact"
    handles = {h["source"]: h["handle"] for h in contact.data["handles"]}
    assert handles["email"] == who["email"].lower()
    statuses = {r.data["status"] for r in records if r.location == "conversation"}
    assert TRASHED in statuses
    # found by e-mail (sent in lower case) and by phone (sent as E.164):
    # one alias lookup each, one contact
    assert standin.stats.by_route["get_contact"] == 2


def test_each_alias_alone_finds_her_and_a_stranger_is_a_404(
    standin: StandIn,
) -> None:
    who = person(standin)
    kind = connector(standin)

    by_mail = list(kind.access(Identity(emails=(who["email"].upper(),))))
    by_phone = list(kind.access(Identity(phones=(who["phone"],))))
    nobody = list(kind.access(Identity(emails=("nobody@example.org",))))

    assert [r.key for r in by_mail if r.location == "contact"] == [who["id"]]
    assert [r.key for r in by_phone if r.location == "contact"] == [who["id"]]
    assert nobody == []


def test_lists_follow_the_full_next_url(standin: StandIn) -> None:
    who = person(standin)

    records = list(connector(standin).access(identity_of(who)))

    # pages of two (the stand-in's): three messages a conversation are two
    # pages, each next page asked for by its `_pagination.next` URL
    talks = _conversations(standin, 3)
    assert sum(r.location == "message" for r in records) == 3 * len(talks)
    assert standin.stats.by_route["messages"] == 2 * len(talks)


def test_erasure_deletes_her_conversations_then_her_contact_not_one_she_is_copied_on(
    standin: StandIn,
) -> None:
    who = person(standin, 5)  # CC'd on one of customer 4's conversations
    talks = _conversations(standin, 5)
    (shared,) = [c for c in talks if c in _conversations(standin, 4)]
    hers = [c for c in talks if c != shared]
    kind = connector(standin)

    receipt = kind.erase(identity_of(who))

    assert receipt.per_location["contact"] == {"found": 1, "changed": 1}
    assert receipt.per_location["conversation"] == {
        "found": len(talks),
        "changed": len(hers),
    }
    state = standin.account.summary()
    assert who["id"] in state["deleted_contacts"]
    # deleted for good (trashed first, as Front requires), not left in trash
    assert set(hers) <= set(state["deleted_conversations"])
    assert not set(talks) & set(state["in_trash"])
    # customer 4's conversation she was copied on is kept, and the evidence
    # says what is left to do by hand
    assert shared in _conversations(standin, 4)
    assert len(_conversations(standin, 4)) == 4
    (kept,) = receipt.exemptions
    assert (kept.location, kept.count) == ("conversation", 1)
    assert "copied on" in kept.reason
    assert "by hand" in kept.reason
    check = kind.verify_erased(identity_of(who), receipt)
    assert check.found == 0
    assert check.per_location["conversation"]["found"] == 0


def test_a_second_erasure_changes_nothing(standin: StandIn) -> None:
    who = person(standin)
    kind = connector(standin)
    kind.erase(identity_of(who))
    calls = dict(standin.stats.by_route)

    again = kind.erase(identity_of(who))

    assert again.changed == 0
    for route in ("delete_contact", "update_conversation", "delete_conversation"):
        assert standin.stats.by_route[route] == calls[route]


def test_an_erasure_cut_after_the_trash_is_finished_by_its_retry(
    standin: StandIn,
) -> None:
    who = person(standin)
    talks = _conversations(standin, 3)
    standin.failing.add("delete_conversation")  # Front fails after the trash
    kind = connector(standin)

    with pytest.raises(ConnectorError) as cut:
        kind.erase(identity_of(who))
    assert not cut.value.permanent
    in_trash = set(standin.account.summary()["in_trash"])
    assert talks[0] in in_trash  # trashed, not deleted
    assert not set(talks[1:]) & in_trash

    standin.failing.clear()
    receipt = kind.erase(identity_of(who))

    # the trashed conversation was listed (q[statuses][]=trashed) and deleted
    assert set(talks) <= set(standin.account.summary()["deleted_conversations"])
    assert not set(talks) & set(standin.account.summary()["in_trash"])
    assert kind.verify_erased(identity_of(who), receipt).found == 0


def test_verification_reports_a_conversation_front_still_holds(
    standin: StandIn,
) -> None:
    who = person(standin)
    talks = _conversations(standin, 3)
    kept = dict(standin.account.conversations[talks[0]])
    kind = connector(standin)
    receipt = kind.erase(identity_of(who))

    standin.account.conversations[talks[0]] = kept  # it came back (or stayed)
    check = kind.verify_erased(identity_of(who), receipt)

    assert check.per_location["conversation"]["found"] == 1
    assert check.per_location["contact"]["found"] == 0


def test_rectification_patches_the_name_and_says_what_it_did_not(
    standin: StandIn,
) -> None:
    who = person(standin)

    outcome = connector(standin).rectify(
        identity_of(who), {"name": "Ada King", "email": "ada@example.org"}
    )

    assert outcome.per_location["contact"] == {"found": 1, "changed": 1}
    held = standin.account.contacts[who["id"]]
    assert held["name"] == "Ada King"
    assert {"handle": "ada@example.org", "source": "email"} not in held["handles"]
    assert outcome.note == "not held by Front: email"


def test_the_remaining_header_paces_calls_before_any_429(standin: StandIn) -> None:
    short_window(standin, 4)
    who = person(standin)

    records = list(connector(standin).access(identity_of(who)))

    # x-ratelimit-remaining 0 paused every process until x-ratelimit-reset
    # (a UNIX time): the limit was respected, not discovered by failing
    assert len(records) == FRONT.records(standin, 3)
    assert standin.stats.refused_429 == 0


def test_a_next_page_may_go_to_the_company_host_and_nowhere_else() -> None:
    client = Client(
        name="front-test",
        base_url="https://api2.frontapp.com",
        auth_header="Bearer x",
        budget=Budget("front:test", per_minute=50),
        next_hosts=("*.api.frontapp.com", "api2.frontapp.com"),
    )

    for url in (
        "https://acme.api.frontapp.com/contacts/crd_1/conversations?page_token=a",
        "https://api2.frontapp.com/conversations/cnv_1/messages?page_token=b",
    ):
        assert client._url(url, None, label="list") == url
    for url in (
        "https://evil.example.com/contacts?page_token=a",
        "http://acme.api.frontapp.com/contacts",  # not https
        "https://a.b.api.frontapp.com/contacts",  # one label only
        "https://acme.api.frontapp.com:8443/contacts",
        "https://api.frontapp.com.evil.example/contacts",
    ):
        with pytest.raises(ConnectorError, match="off the configured host"):
            client._url(url, None, label="list")


@pytest.mark.parametrize(
    ("value", "how", "expected"),
    [
        ("Ada.King@Example.ORG ", "lower", "ada.king@example.org"),
        ("+44 7700 900123", "e164", "+447700900123"),
        ("0044 7700-900123", "e164", "+447700900123"),
        ("+1 (234) 567-8900", "e164", "+12345678900"),
        ("Ada.King@Example.ORG", None, "Ada.King@Example.ORG"),
    ],
)
def test_identifiers_are_looked_up_as_the_vendor_keeps_them(
    value: str, how: str | None, expected: str
) -> None:
    assert normalized(value, how) == expected
