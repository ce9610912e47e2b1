"""Purges through a policy, against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from accounts.actors import actor_system
from connectors.demo.content import customer
from connectors.models import Connector
from retention.choices import RunStatus
from retention.models import PurgeRun
from retention.services.holds import legal_hold_place
from retention.services.runs import purge_run_start
from tests.retention.conftest import (
    Helpdesk,
    hold_customer,
    make_policy,
    old_customer_with_tickets,
)

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


def _old_tickets(store: Helpdesk, *, except_customer: int = 0) -> list[int]:
    return [
        row[0]
        for row in store.rows(
            f"SELECT id FROM tickets WHERE {store.age()} AND customer_id <> ? "
            "ORDER BY id",
            [store.cutoff_param(), except_customer],
        )
    ]


def _ids(store: Helpdesk, sql: str, params: list[Any]) -> set[int]:
    return {row[0] for row in store.rows(sql, params)}


def test_a_dry_run_counts_what_the_real_run_then_changes_and_touches_nothing(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given a policy deleting old tickets, and a customer under a legal hold
    held = old_customer_with_tickets(helpdesk)
    hold_customer(held)
    policy = make_policy(connector)
    before = helpdesk.everything()

    # when
    dry = purge_run_start(actor=SYSTEM, policy=policy, dry_run=True)

    # then nothing changed, and the counts are there per table
    assert dry.status == RunStatus.SUCCEEDED
    assert helpdesk.everything() == before
    assert set(dry.tables) == {"tickets", "messages"}
    assert dry.tables["tickets"]["skipped_held"] > 0

    # when the real run follows
    real = purge_run_start(actor=SYSTEM, policy=policy)

    # then it changed exactly what the dry run said it would
    assert real.status == RunStatus.SUCCEEDED
    assert real.tables == dry.tables
    assert real.tables["tickets"]["changed"] == len(before["tickets"]) - len(
        helpdesk.everything()["tickets"]
    )
    assert real.tables["messages"]["changed"] == len(before["messages"]) - len(
        helpdesk.everything()["messages"]
    )


def test_delete_removes_only_old_rows_their_children_follow_and_held_rows_stay(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    held = old_customer_with_tickets(helpdesk)
    hold = hold_customer(held)
    expired = _old_tickets(helpdesk, except_customer=held)
    held_tickets = _ids(
        helpdesk,
        f"SELECT id FROM tickets WHERE customer_id = ? AND {helpdesk.age()}",
        [held, helpdesk.cutoff_param()],
    )
    before = helpdesk.everything()
    kept_tickets = [row for row in before["tickets"] if row[0] not in expired]
    kept_messages = [row for row in before["messages"] if row[1] not in expired]
    assert expired
    assert held_tickets

    # when
    run = purge_run_start(actor=SYSTEM, policy=make_policy(connector))

    # then the expired tickets and their messages are gone, nothing else
    after = helpdesk.everything()
    assert after["tickets"] == kept_tickets
    assert after["messages"] == kept_messages
    assert after["customers"] == before["customers"]
    assert after["ai_conversations"] == before["ai_conversations"]
    assert held_tickets <= {row[0] for row in after["tickets"]}
    assert run.tables["tickets"] == {
        "examined": len(expired) + len(held_tickets),
        "changed": len(expired),
        "skipped_held": len(held_tickets),
    }
    assert run.holds[0]["id"] == str(hold.public_id)
    assert run.holds[0]["legal_basis"].startswith("GDPR 17(3)(e)")


def test_a_table_hold_keeps_the_whole_table_and_the_parents_of_its_rows(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given a hold on the messages table while a policy deletes old tickets
    legal_hold_place(
        actor=SYSTEM,
        scope="table",
        connector=connector,
        table="messages",
        reason="regulator inquiry into support replies",
        legal_basis="GDPR 17(3)(b): legal obligation",
    )
    helpdesk_rows = helpdesk.everything()
    childless = _ids(
        helpdesk,
        f"SELECT id FROM tickets WHERE {helpdesk.age()} AND id NOT IN "
        "(SELECT ticket_id FROM messages)",
        [helpdesk.cutoff_param()],
    )

    # when
    run = purge_run_start(actor=SYSTEM, policy=make_policy(connector))

    # then every message stays, so every ticket with messages stays too
    after = helpdesk.everything()
    assert after["messages"] == helpdesk_rows["messages"]
    assert {row[0] for row in helpdesk_rows["tickets"]} - {
        row[0] for row in after["tickets"]
    } == childless
    assert run.tables["tickets"]["skipped_held"] == len(
        _old_tickets(helpdesk)
    )  # every old ticket left has messages


def test_a_connector_hold_stops_every_policy_on_it(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    legal_hold_place(
        actor=SYSTEM,
        scope="connector",
        connector=connector,
        reason="litigation hold on the whole helpdesk",
        legal_basis="GDPR 17(3)(e)",
    )
    before = helpdesk.everything()
    old_logs = helpdesk.value(
        f"SELECT COUNT(*) FROM ai_conversations WHERE {helpdesk.age()}",
        [helpdesk.cutoff_param()],
    )

    # when
    run = purge_run_start(
        actor=SYSTEM, policy=make_policy(connector, table="ai_conversations")
    )

    # then
    assert helpdesk.everything() == before
    assert run.status == RunStatus.SUCCEEDED
    assert run.tables["ai_conversations"] == {
        "examined": old_logs,
        "changed": 0,
        "skipped_held": old_logs,
    }


def test_anonymize_empties_the_fields_of_old_rows_once_and_spares_held_ones(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    held = int(
        helpdesk.value(
            f"SELECT id FROM customers WHERE {helpdesk.age()} ORDER BY id LIMIT 1",
            [helpdesk.cutoff_param()],
        )
    )
    hold_customer(held)
    before = {row[0]: row for row in helpdesk.rows("SELECT * FROM customers")}
    old = _ids(
        helpdesk,
        f"SELECT id FROM customers WHERE {helpdesk.age()}",
        [helpdesk.cutoff_param()],
    )
    policy = make_policy(
        connector, table="customers", action="anonymize", fields=["name", "phone"]
    )

    # when
    run = purge_run_start(actor=SYSTEM, policy=policy)

    # then
    after = {row[0]: row for row in helpdesk.rows("SELECT * FROM customers")}
    for key, row in after.items():
        if key in old and key != held:
            assert (row[1], row[3]) == (None, None)  # name, phone
            assert row[2] == before[key][2]  # e-mail was not listed
        else:
            assert row == before[key]
    assert run.tables["customers"] == {
        "examined": len(old),
        "changed": len(old) - 1,
        "skipped_held": 1,
    }

    # when it runs again, nothing is left to change
    again = purge_run_start(actor=SYSTEM, policy=policy)
    assert again.tables["customers"]["changed"] == 0


def test_redact_pii_rewrites_old_texts_and_their_childrens_but_not_held_ones(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    held = old_customer_with_tickets(helpdesk)
    hold_customer(held)
    policy = make_policy(
        connector,
        table="tickets",
        action="redact_pii",
        fields=["subject"],
        batch_size=50,
    )
    before_messages = {r[0]: r for r in helpdesk.rows("SELECT * FROM messages")}
    old_tickets = set(_old_tickets(helpdesk, except_customer=held))

    # when
    dry = purge_run_start(actor=SYSTEM, policy=policy, dry_run=True)
    run = purge_run_start(actor=SYSTEM, policy=policy)

    # then old tickets lost their order numbers, and so did their messages
    assert run.tables == dry.tables
    for key, subject in helpdesk.rows("SELECT id, subject FROM tickets"):
        if key in old_tickets:
            assert "ORD-" not in subject
            assert "<ORDER_NUMBER>" in subject
        else:
            assert "ORD-" in subject
    owner = dict(helpdesk.rows("SELECT id, customer_id FROM tickets"))
    for key, ticket, _, body, _ in helpdesk.rows("SELECT * FROM messages"):
        if ticket in old_tickets:
            assert customer(owner[ticket]).email not in body
            assert "ORD-" not in body
        else:
            assert body == before_messages[key][3]
    assert run.tables["messages"]["changed"] > 0
    assert run.tables["tickets"]["skipped_held"] > 0


def test_batches_never_exceed_the_batch_size(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    expired = _old_tickets(helpdesk)
    policy = make_policy(connector, batch_size=10)
    seen: list[int] = []

    def on_batch(run: PurgeRun) -> None:
        seen.append(run.tables["tickets"]["changed"])

    # when
    run = purge_run_start(actor=SYSTEM, policy=policy, on_batch=on_batch)

    # then
    sizes = [b - a for a, b in zip([0, *seen], seen, strict=False)]
    assert run.batches == len(seen) == math.ceil(len(expired) / 10)
    assert max(sizes) == 10
    assert sum(sizes) == len(expired)
    assert run.checkpoint["after_key"] == expired[-1]
    assert run.longest_transaction_ms <= run.longest_batch_ms


def test_a_missing_column_fails_the_run_with_a_clear_error_and_alerts(
    helpdesk: Helpdesk,
    connector: Connector,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    policy = make_policy(connector, table="ai_conversations")
    policy.age_column = "archived_at"
    policy.save()  # as if the store's schema changed under the policy

    # when
    with django_capture_on_commit_callbacks(execute=True):
        run = purge_run_start(actor=SYSTEM, policy=policy)

    # then
    assert run.status == RunStatus.FAILED
    assert "archived_at" in run.errors[0]["message"]
    assert run.errors[0]["permanent"] is True
    assert len(mailoutbox) == 1
    assert policy.name in mailoutbox[0].subject
    assert str(run.public_id) in mailoutbox[0].body
