"""The zendesk kind against the Zendesk stand-in (a real HTTP server on
loopback keeping state): access, erasure and its verification, rectification,
a remaining count of 0 pausing everyone, and an erasure cut between its two
deletes (auth, 429, 5xx, down and revoked: test_refusals.py)."""

from __future__ import annotations

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from standins.zendesk import StandIn
from standins.zendesk.state import AGENT_ID, REDACTED
from tests.connectors.saas.conftest import (
    SUBJECT,
    connector,
    subject,
)
from tests.connectors.saas.services import SERVICES, identity_of
from tests.standin_fixtures import short_window

pytestmark = pytest.mark.django_db


def _records(standin: StandIn, number: int = SUBJECT) -> int:
    return SERVICES["zendesk"]().records(standin, number)


def test_access_streams_every_record_with_its_category(standin: StandIn) -> None:
    user = subject(standin)

    records = list(connector(standin).access(identity_of(user)))

    # the user, both identities, both tickets, every comment, across pages of 2
    assert len(records) == _records(standin)
    categories = {r.location: r.category for r in records}
    assert categories == {
        "user": "contact",
        "identity": "contact",
        "ticket": "support_ticket",
        "comment": "support_message",
    }
    (found,) = [r for r in records if r.location == "user"]
    assert found.key == str(user["id"])
    assert found.data["email"] == user["email"]
    assert "active" not in found.data  # only the definition's fields
    # nobody else's tickets
    tickets = {r.key for r in records if r.location == "ticket"}
    assert tickets == {str(t["id"]) for t in standin.account.tickets_of(user["id"])}
    assert standin.stats.by_route["comments"] == 4  # 2 tickets x 2 pages


def test_erasure_deletes_for_good_and_redacts_the_kept_tickets(
    standin: StandIn,
) -> None:
    user = subject(standin)
    tickets = standin.account.tickets_of(user["id"])
    other = subject(standin, 4)

    receipt = connector(standin).erase(identity_of(user))

    # soft-deleted, then permanently deleted: search and deleted_users agree
    assert user["id"] in standin.account.purged
    assert user["id"] not in standin.account.soft_deleted
    assert standin.account.search(f"email:{user['email']}") == []
    # the tickets are kept; her comments are redacted whole, the agent's
    # lose only her identifiers
    for ticket in tickets:
        assert ticket["id"] in standin.account.tickets
        for comment in standin.account.comments[ticket["id"]]:
            if comment["author_id"] == user["id"]:
                assert set(comment["body"]) <= {REDACTED, " "}
            else:
                assert comment["author_id"] == AGENT_ID
                assert user["name"].split()[0] not in comment["body"]
                assert user["email"] not in comment["body"]
    assert receipt.per_location["user"] == {"found": 1, "changed": 1}
    assert receipt.per_location["comment"]["changed"] >= 4
    assert receipt.knows("ids.user") == (str(user["id"]),)
    # nobody else touched
    assert standin.account.users[other["id"]] == other
    # and verification, from the receipt alone, finds nothing
    again = ErasureReceipt.from_json(receipt.to_json())
    assert connector(standin).verify_erased(identity_of(user), again).found == 0


def test_erasing_twice_changes_nothing_the_second_time(standin: StandIn) -> None:
    user = subject(standin)
    first = connector(standin).erase(identity_of(user))
    calls = dict(standin.stats.by_route)

    second = connector(standin).erase(identity_of(user))

    assert first.changed > 0
    assert (second.found, second.changed) == (0, 0)
    assert standin.stats.by_route.get("redact") == calls.get("redact")
    assert standin.stats.by_route.get("purge") == calls.get("purge") == 1


def test_verification_finds_what_came_back(standin: StandIn) -> None:
    user = subject(standin)
    receipt = connector(standin).erase(identity_of(user))
    # an agent writes her e-mail again on a kept ticket
    ticket = standin.account.tickets_of(user["id"])[0]
    standin.account.comments[ticket["id"]][1]["html_body"] = f"<p>{user['email']}</p>"

    outcome = connector(standin).verify_erased(identity_of(user), receipt)

    assert outcome.found == 1
    assert outcome.per_location["comment"]["found"] == 1


def test_rectification_writes_name_email_and_phone(standin: StandIn) -> None:
    user = subject(standin)

    outcome = connector(standin).rectify(
        identity_of(user), {"name": "Ada King", "email": "ada.king@example.org"}
    )

    assert (outcome.found, outcome.changed) == (1, 1)
    stored = standin.account.users[user["id"]]
    assert (stored["name"], stored["email"]) == ("Ada King", "ada.king@example.org")
    assert stored["phone"] == user["phone"]
    nobody = connector(standin).rectify(
        Identity(emails=("nobody@example.com",)), {"name": "X"}
    )
    assert (nobody.found, nobody.changed) == (0, 0)


def test_a_remaining_count_of_zero_pauses_before_a_429(standin: StandIn) -> None:
    # the budget is too generous, but the service's headers say when to stop
    # (5 calls a window; ratelimit-reset says when the window ends)
    short_window(standin, 5)
    zendesk = connector(standin, rate_limit_per_minute=6000)

    records = list(zendesk.access(identity_of(subject(standin))))

    assert len(records) == _records(standin)
    assert standin.stats.refused_429 == 0


def test_the_embedded_launcher_offers_a_stand_in_the_kind_reaches(
    settings,
) -> None:
    from privacydesk.launcher import DEMO_ZENDESK_TOKEN, zendesk_lines, zendesk_standin

    settings.EMBEDDED = True
    demo = zendesk_standin()
    try:
        lines = zendesk_lines(demo)
        zendesk = connector(demo, token=DEMO_ZENDESK_TOKEN)
        assert zendesk.health().status.startswith("ok")
        assert demo.url in lines[1]
        assert DEMO_ZENDESK_TOKEN in lines[2]
    finally:
        demo.stop()
    settings.EMBEDDED = False
    assert zendesk_standin() is None


def test_an_erasure_cut_between_its_deletes_is_finished_by_its_retry(
    standin: StandIn,
) -> None:
    user = subject(standin)
    job = Job(
        task_id="5b1c7e52-0000-4000-8000-000000000013",
        request_reference="DSR-2026-000013",
        action=Action.ERASE,
        identity=identity_of(user),
    )
    # given the permanent delete fails after the soft delete went through
    standin.failing = {"purge"}
    with pytest.raises(ConnectorError) as cut:
        connector(standin).run(job, sink=None)  # type: ignore[arg-type]
    assert not cut.value.permanent
    assert user["id"] in standin.account.soft_deleted
    assert standin.account.search(f"email:{user['email']}") == []

    # when the executor retries the task (a fresh instance, another process)
    standin.failing = set()
    receipt = connector(standin).run(job, sink=None)  # type: ignore[arg-type]

    # then it finds the user search no longer shows, and finishes
    assert isinstance(receipt, ErasureReceipt)
    assert user["id"] in standin.account.purged
    assert receipt.per_location["user"] == {"found": 1, "changed": 1}
    assert receipt.knows("ids.user") == (str(user["id"]),)
    assert connector(standin).verify_erased(job.identity, receipt).found == 0


def test_her_phone_as_the_store_holds_it_is_redacted_in_another_format(
    standin: StandIn,
) -> None:
    # given: found by e-mail alone; her profile holds the phone in national
    # form, an agent's comment quotes it with the country code
    user = subject(standin)
    standin.account.users[user["id"]]["phone"] = "07700 900003"
    ticket = standin.account.tickets_of(user["id"])[0]
    comment = standin.account.comments[ticket["id"]][1]
    comment["body"] = "Called her on +44 7700 900003, no answer."
    comment["html_body"] = f"<p>{comment['body']}</p>"
    by_email = Identity(emails=(user["email"],))

    # when
    receipt = connector(standin).erase(by_email)

    # then the number is gone from the agent's comment, the rest is kept
    assert "900003" not in comment["body"].replace(" ", "")
    assert "+44" not in comment["body"]  # the country code went with it
    assert comment["body"].startswith("Called her on ")
    assert "07700 900003" in receipt.knows("phones")
    assert connector(standin).verify_erased(by_email, receipt).found == 0

    # when it is written again, the other way round
    comment["html_body"] = "<p>her mobile: (07700) 900-003</p>"
    outcome = connector(standin).verify_erased(by_email, receipt)

    # then
    assert outcome.per_location["comment"]["found"] == 1
