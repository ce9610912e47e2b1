"""The intercom kind against the Intercom stand-in (a real HTTP server on
loopback keeping state): search by a POST body paged by starting_after,
conversations and their parts, redaction, the delete's 7-day grace (the
erasure waits on it), rectification, 401 and 429 with X-RateLimit-*."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ConfigError, ConnectorError, Deferred, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas import SaasConnector
from connectors.registry import kind_class
from standins.intercom import StandIn
from standins.intercom.state import GRACE_SECONDS, contact_id
from tests.intercom import TOKEN, intercom_standin
from tests.standin_fixtures import short_window

pytestmark = pytest.mark.django_db
standin = intercom_standin  # the fixture, by the name the tests use


def connector(standin: StandIn, *, token: str = TOKEN, **extra: Any) -> SaasConnector:
    cls = kind_class("intercom")
    assert issubclass(cls, SaasConnector)
    return cls(
        name="intercom-test",
        config={"base_url": standin.url, **extra},
        secrets={"access_token": token},
    )


def contact(standin: StandIn, number: int = 3) -> dict[str, Any]:
    return dict(standin.account.contacts[contact_id(number)])


def identity_of(person: dict[str, Any]) -> Identity:
    return Identity(emails=(person["email"].upper(),), phones=(person["phone"],))


def _messages(standin: StandIn, cid: str) -> list[dict[str, Any]]:
    found = []
    for conv in standin.account.conversations.values():
        if any(c["id"] == cid for c in conv["contacts"]["contacts"]):
            found += [conv["source"], *conv["parts"]]
    return found


def test_the_region_is_a_choice_of_host_and_health_names_auth(
    standin: StandIn,
) -> None:
    cls = kind_class("intercom")
    assert cls.validate_config({"api_host": "api.eu.intercom.io"})
    with pytest.raises(ConfigError) as bad:
        cls.validate_config({"api_host": "evil.example.com"})
    assert bad.value.field == "config.api_host"
    assert connector(standin).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        connector(standin, token="wrong-token").health()
    assert "auth refused (HTTP 401)" in refused.value.message


def test_access_finds_the_contact_her_conversations_and_their_parts(
    standin: StandIn,
) -> None:
    person = contact(standin)

    records = list(connector(standin).access(identity_of(person)))

    by_type: dict[str, int] = {}
    for record in records:
        by_type[record.location] = by_type.get(record.location, 0) + 1
    # 2 conversations, each a source message and 4 parts (3 comments, a close)
    assert by_type == {"contact": 1, "conversation": 2, "message": 2, "part": 8}
    (found,) = [r for r in records if r.location == "contact"]
    assert found.key == person["id"]
    assert found.category == "contact"
    # the searches were POSTs with the query in the body (found by e-mail and
    # by phone: one contact, once)
    assert standin.stats.by_route["search_contacts"] == 2


def test_search_follows_starting_after_across_pages(standin: StandIn) -> None:
    person = contact(standin)
    twin = standin.account.contacts[contact_id(4)]
    twin["email"] = person["email"]  # two contacts share the address: 1 page of 2
    standin.account.contacts[contact_id(5)]["email"] = person["email"]

    records = list(connector(standin).access(Identity(emails=(person["email"],))))

    assert sum(r.location == "contact" for r in records) == 3


def test_erasure_redacts_her_messages_deletes_her_and_waits_on_the_grace(
    standin: StandIn,
) -> None:
    person = contact(standin)
    kind = connector(standin)
    job = Job(
        task_id="t-1",
        request_reference="DSR-1",
        action=Action.ERASE,
        identity=identity_of(person),
    )

    result = kind.run(job, sink=None)  # type: ignore[arg-type]

    # deleted, in its grace period: the task waits on Intercom for 7 days
    assert isinstance(result, Deferred)
    assert result.check_at is not None
    assert result.receipt is not None
    assert "7 days" in result.note
    assert person["id"] in standin.account.deleted_at
    for message in _messages(standin, person["id"]):
        if message["author"]["id"] == person["id"] and message["body"] != "":
            raise AssertionError("a message of hers was left")
        assert person["email"] not in (message["body"] or "")
    # not gone yet: the check after erasing still finds her by id
    check = kind.verify_erased(job.identity, result.receipt)
    assert check.per_location["contact"]["found"] == 1

    # a second run changes nothing (idempotent), and still waits
    again = kind.run(job, sink=None)  # type: ignore[arg-type]
    assert isinstance(again, Deferred)
    assert again.receipt is not None
    assert again.receipt.changed == 0

    # after the grace, Intercom has destroyed her: verification passes
    standin.account.advance(GRACE_SECONDS + 1)
    assert kind.verify_erased(job.identity, result.receipt).found == 0
    assert person["id"] in standin.account.destroyed


def test_rectification_updates_the_contact(standin: StandIn) -> None:
    person = contact(standin)

    outcome = connector(standin).rectify(
        identity_of(person), {"name": "Ada King", "address": "x"}
    )

    assert outcome.changed == 1
    assert standin.account.contacts[person["id"]]["name"] == "Ada King"
    assert "address" in outcome.note


def test_the_rate_headers_pause_the_work_before_a_429(standin: StandIn) -> None:
    short_window(standin, 4)  # the 7 calls of an access span two windows
    person = contact(standin)

    records = list(connector(standin).access(identity_of(person)))

    # X-RateLimit-Remaining 0 paused every process until X-RateLimit-Reset
    # (a UNIX time): the limit was respected, not discovered by failing
    assert len(records) == 13
    assert standin.stats.refused_429 == 0


def test_a_token_revoked_mid_run_fails_for_good(standin: StandIn) -> None:
    standin.revoke_after = 2
    person = contact(standin)

    with pytest.raises(ConnectorError) as refused:
        list(connector(standin).access(identity_of(person)))

    assert refused.value.permanent
    assert person["email"] not in refused.value.message
