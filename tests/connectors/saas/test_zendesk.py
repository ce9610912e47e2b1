"""The zendesk kind against the Zendesk stand-in (a real HTTP server on
loopback keeping state): access, erasure and its verification, rectification,
and the ways the service says no (auth, rate limit, 5xx, down, revoked)."""

from __future__ import annotations

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas.budget import Budget
from standins.zendesk import StandIn
from standins.zendesk.state import AGENT_ID, REDACTED, user_id
from tests.connectors.saas.conftest import (
    SUBJECT,
    connector,
    identity_of,
    subject,
)

pytestmark = pytest.mark.django_db


def _records(standin: StandIn, number: int = SUBJECT) -> int:
    uid = user_id(number)
    tickets = standin.account.tickets_of(uid)
    comments = sum(len(standin.account.comments[t["id"]]) for t in tickets)
    return 1 + len(standin.account.identities[uid]) + len(tickets) + comments


def test_health_names_what_failed(standin: StandIn) -> None:
    assert connector(standin).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        connector(standin, token="wrong-token").health()
    assert refused.value.permanent
    assert "auth refused (HTTP 401)" in refused.value.message
    assert "wrong-token" not in refused.value.message


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


def test_a_429_is_waited_out_as_retry_after_says(standin: StandIn) -> None:
    # the service allows 5 calls per 2 s, says so only by a 429, and our
    # budget thinks it has plenty
    standin.per_window, standin.window_seconds = 5, 2.0
    standin.rate_headers = False
    zendesk = connector(standin, rate_limit_per_minute=6000)

    records = list(zendesk.access(identity_of(subject(standin))))

    assert len(records) == _records(standin)
    assert standin.stats.refused_429 >= 1
    assert standin.stats.early_retries == 0  # never called before Retry-After
    assert Budget("zendesk:zendesk-test", per_minute=1).refusals() >= 1


def test_the_budget_spreads_calls_so_the_service_never_refuses(
    standin: StandIn,
) -> None:
    # the connector knows the real limit: 60 a minute is 5 per 5 s window
    standin.per_window, standin.window_seconds = 5, 5.0
    zendesk = connector(standin, rate_limit_per_minute=60)

    records = list(zendesk.access(identity_of(subject(standin))))

    assert len(records) == _records(standin)
    assert standin.stats.refused_429 == 0


def test_a_remaining_count_of_zero_pauses_before_a_429(standin: StandIn) -> None:
    # the budget is too generous, but the service's headers say when to stop
    standin.per_window, standin.window_seconds = 5, 2.0
    zendesk = connector(standin, rate_limit_per_minute=6000)

    records = list(zendesk.access(identity_of(subject(standin))))

    assert len(records) == _records(standin)
    assert standin.stats.refused_429 == 0


def test_server_errors_are_retried_then_reported_as_transient(
    standin: StandIn,
) -> None:
    standin.error_rate = 0.3
    records = list(connector(standin).access(identity_of(subject(standin))))
    assert len(records) == _records(standin)
    assert standin.stats.failed_5xx > 0

    standin.error_rate = 1.0
    with pytest.raises(ConnectorError) as failed:
        connector(standin).erase(identity_of(subject(standin)))
    assert not failed.value.permanent
    assert "answered HTTP 503 4 times" in failed.value.message


def test_a_store_that_is_down_is_a_transient_network_failure(
    standin: StandIn,
) -> None:
    zendesk = connector(standin)
    standin.stop()

    with pytest.raises(ConnectorError) as down:
        zendesk.erase(identity_of(subject(standin)))

    assert not down.value.permanent
    assert "unreachable" in down.value.message


def test_a_token_revoked_mid_run_fails_for_good_naming_auth(
    standin: StandIn,
) -> None:
    standin.revoke_after = 4
    user = subject(standin)

    with pytest.raises(ConnectorError) as revoked:
        connector(standin).erase(identity_of(user))

    assert revoked.value.permanent
    assert "auth refused (HTTP 401)" in revoked.value.message
    assert user["email"] not in revoked.value.message
    assert user["id"] not in standin.account.purged


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
