"""The `sql` connector kind against real stores (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import copy
import json
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from connectors.base import (
    AccessRecord,
    ConfigError,
    ConnectorError,
    ErasureReceipt,
    Identity,
    Job,
    Outcome,
)
from connectors.choices import Action
from connectors.kinds.sql import SqlConnector
from connectors.kinds.sql.values import hashed, json_safe, pseudonym
from connectors.models import Connector
from tests.connectors.conftest import (
    SUBJECT,
    Helpdesk,
    helpdesk_config,
    subject_identity,
)

ISSUE_EXAMPLE = {
    "dsn": "postgresql://127.0.0.1/supportdesk",
    "tables": [
        {
            "table": "customers",
            "key": "id",
            "identity": {"email": "email", "phone": "phone"},
            "erase": {"email": "hash", "name": "null", "phone": "null"},
        },
        {
            "table": "tickets",
            "key": "id",
            "parent": {"table": "customers", "column": "customer_id"},
            "erase": {"subject": "redact_pii"},
        },
        {
            "table": "messages",
            "key": "id",
            "parent": {"table": "tickets", "column": "ticket_id"},
            "erase": {"body": "redact_pii"},
        },
        {
            "table": "ai_conversations",
            "key": "id",
            "identity": {"email": "customer_email"},
            "erase": "delete",
        },
    ],
}


class ListSink:
    def __init__(self) -> None:
        self.records: list[AccessRecord] = []

    def write(self, record: AccessRecord) -> None:
        self.records.append(record)


class CountingSink:
    """Keeps nothing, like the executor's sink that spills to a file."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, record: AccessRecord) -> None:
        self.count += 1


def _job(action: str, identity: Identity | None = None, **extra: Any) -> Job:
    return Job(
        task_id="t-1",
        request_reference="DSR-2026-000001",
        action=action,
        identity=identity or subject_identity(),
        **extra,
    )


# --- configuration ---------------------------------------------------------------


def test_the_issue_example_config_is_accepted() -> None:
    # when
    cleaned = SqlConnector.validate_config(copy.deepcopy(ISSUE_EXAMPLE))

    # then
    assert cleaned == ISSUE_EXAMPLE


def _broken(change: Any) -> dict[str, Any]:
    config = copy.deepcopy(ISSUE_EXAMPLE)
    change(config)
    return config


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda c: c.pop("dsn"), "config.dsn"),
        (lambda c: c.update(dsn="oracle://db/x"), "config.dsn"),
        (lambda c: c.update(dsn="postgresql://u:hunter2@db/x"), "config.dsn"),
        (lambda c: c.update(dsn="postgresql://db/x?password=hunter2"), "config.dsn"),
        (lambda c: c.update(tables=[]), "config.tables"),
        (lambda c: c.update(bogus=1), "config.bogus"),
        (lambda c: c.update(batch_size=0), "config.batch_size"),
        (lambda c: c.update(prepared_statements="no"), "config.prepared_statements"),
        (lambda c: c["tables"].__setitem__(1, "tickets"), "config.tables[1]"),
        (
            lambda c: c["tables"][0].update(table="customers; drop"),
            "config.tables[0].table",
        ),
        (lambda c: c["tables"][0].update(key="id\n"), "config.tables[0].key"),
        (lambda c: c["tables"][2].pop("parent"), "config.tables[2].identity"),
        (
            lambda c: c["tables"][3].update(identity={"emial": "customer_email"}),
            "config.tables[3].identity.emial",
        ),
        (
            lambda c: c["tables"][1]["parent"].update(table="clients"),
            "config.tables[1].parent.table",
        ),
        (
            lambda c: c["tables"][0]["erase"].update(email="shred"),
            "config.tables[0].erase.email",
        ),
        (
            lambda c: c["tables"][0]["erase"].update(name="delete"),
            "config.tables[0].erase.name",
        ),
        (
            lambda c: c["tables"][0]["erase"].update(id="null"),
            "config.tables[0].erase.id",
        ),
        (lambda c: c["tables"][0]["erase"].pop("email"), "config.tables[0].erase"),
        (lambda c: c["tables"][3].pop("erase"), "config.tables[3].erase"),
        (lambda c: c["tables"][1].update(table="customers"), "config.tables[1].table"),
        (
            lambda c: c["tables"][0].update(
                parent={"table": "messages", "column": "last_message_id"}
            ),
            "config.tables[0].parent",
        ),
        (lambda c: c["tables"][0].update(erase="delete"), "config.tables[1].erase"),
        (lambda c: c["tables"][0].update(colour="red"), "config.tables[0].colour"),
    ],
)
def test_a_bad_config_is_refused_naming_the_path(change: Any, path: str) -> None:
    # given
    config = _broken(change)

    # when
    with pytest.raises(ConfigError) as caught:
        SqlConnector.validate_config(config)

    # then
    assert caught.value.field == path


def test_deleting_parents_is_accepted_when_children_are_deleted_or_detached() -> None:
    # given: customers deleted; tickets deleted; messages follow the tickets
    config = copy.deepcopy(ISSUE_EXAMPLE)
    config["tables"][0]["erase"] = "delete"
    config["tables"][1]["erase"] = "delete"
    config["tables"][2]["erase"] = {"body": "redact_pii", "ticket_id": "null"}

    # when / then: no error; and nothing deleted before its children
    SqlConnector.validate_config(config)
    connector = SqlConnector(name="x", config=config, secrets={})
    order = [t.table for t in connector.store.children_first()]
    assert order.index("messages") < order.index("tickets") < order.index("customers")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "2026-03-01T09:30:00+00:00"),
        (date(2026, 3, 1), "2026-03-01"),
        (Decimal("49.90"), "49.90"),
        (b"\x00\xffpdf", "AP9wZGY="),
        (memoryview(b"ab"), "YWI="),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ({"tags": ("vip", 1)}, {"tags": ["vip", 1]}),
        (None, None),
    ],
)
def test_stored_values_become_json_safe(value: Any, expected: Any) -> None:
    assert json_safe(value) == expected


def test_a_password_is_a_secret_not_config() -> None:
    # when
    with pytest.raises(ConfigError) as caught:
        SqlConnector.validate_secrets({"password": "x", "token": "y"})

    # then
    assert caught.value.field == "secrets.token"
    assert SqlConnector.validate_secrets({"password": "pw"}) == {"password": "pw"}


def test_restrict_and_object_are_offered_only_where_a_flag_column_is_mapped() -> None:
    # given
    plain = SqlConnector(name="x", config=ISSUE_EXAMPLE, secrets={})
    flagged = SqlConnector(
        name="y", config=helpdesk_config("sqlite:///store.db"), secrets={}
    )

    # then
    assert Action.RESTRICT not in plain.actions
    assert Action.OBJECT not in plain.actions
    assert {Action.RESTRICT, Action.OBJECT} <= flagged.actions
    assert Action.ERASE in plain.actions


def test_the_registry_builds_the_sql_kind() -> None:
    # given
    row = Connector(name="helpdesk", kind="sql", config=ISSUE_EXAMPLE, secrets=None)

    # when
    instance = row.instance()

    # then
    assert isinstance(instance, SqlConnector)
    assert instance.actions >= {Action.ACCESS, Action.ERASE, Action.VERIFY_ERASURE}


# --- access ------------------------------------------------------------------------


def test_access_returns_all_of_the_subjects_rows_and_nobody_elses(
    store: Helpdesk,
) -> None:
    # given
    connector = store.connector()
    sink = ListSink()

    # when
    outcome = connector.run(_job(Action.ACCESS), sink)

    # then
    assert isinstance(outcome, Outcome)
    by_table: dict[str, list[AccessRecord]] = {}
    for record in sink.records:
        by_table.setdefault(record.location, []).append(record)
    assert {t: len(r) for t, r in by_table.items()} == {
        "customers": 1,
        "tickets": 3,
        "messages": 12,
        "ai_conversations": 2,
        "invoices": 1,
    }
    assert outcome.found == 19
    assert outcome.per_location["messages"] == {"found": 12, "changed": 0}
    customer = by_table["customers"][0]
    assert customer.key == "1"
    assert customer.category == "contact"
    assert customer.data["name"] == "Jane Doe"
    assert isinstance(customer.data["created_at"], str)  # JSON-safe
    assert by_table["invoices"][0].data["amount"] in ("49.90", 49.9)
    assert {r.data["ticket_id"] for r in by_table["messages"]} == set(
        store.subject_ticket_ids
    )
    assert all(r.category == "support_message" for r in by_table["messages"])
    bodies = " ".join(r.data["body"] for r in by_table["messages"])
    assert "Omar" not in bodies
    assert "mail.example.org" not in bodies


def test_access_finds_the_subject_by_a_customer_id_of_one_system(
    store: Helpdesk,
) -> None:
    # given: only the CRM id is known
    connector = store.connector()
    crm_only = Identity(customer_ids={"crm": ("CRM-100001",)})
    other_system = Identity(customer_ids={"billing": ("CRM-100001",)})

    # when
    found = connector.discover(crm_only)

    # then
    assert found == {
        "customers": 1,
        "tickets": 3,
        "messages": 12,
        "invoices": 1,
    }
    assert connector.discover(other_system) == {}


def test_access_streams_a_long_history_in_batches(store: Helpdesk) -> None:
    # given: the subject wrote 20,000 messages of about 300 characters
    text = "My order still has not arrived and nobody answers the phone. " * 5
    first_id = int(store.value("SELECT MAX(id) FROM messages")) + 1
    ticket = store.subject_ticket_ids[0]
    rows = [
        [first_id + n, ticket, "customer", f"{n:06d} {text}", "2025-03-01 10:00:00"]
        for n in range(20_000)
    ]
    store.execute_many("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", rows)
    del rows
    connector = store.connector()
    sink = CountingSink()

    # when
    tracemalloc.start()
    outcome = connector.run(_job(Action.ACCESS), sink)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # then: every row came through, yet memory held about one batch at a time
    assert sink.count == 20_000 + 19
    assert outcome.per_location["messages"]["found"] == 20_012
    held_at_once = 20_000 * len(text)  # the bodies alone, without any row overhead
    assert peak < held_at_once / 3, f"peak {peak} bytes"  # measured: ~1.1-1.3 MB


# --- erasure ---------------------------------------------------------------------


def test_erase_rewrites_every_batch_when_rows_span_several(store: Helpdesk) -> None:
    # given: 35 more messages of the subject quoting her address, read in
    # batches of ten (the first by a plain query, the rest through a cursor
    # while erasure rewrites the rows already read)
    first_id = int(store.value("SELECT MAX(id) FROM messages")) + 1
    ticket = store.subject_ticket_ids[0]
    store.execute_many(
        "INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
        [
            [
                first_id + n,
                ticket,
                "customer",
                f"Write to {SUBJECT['email']} ({n})",
                "2025-03-01 10:00:00",
            ]
            for n in range(35)
        ],
    )
    config = {**helpdesk_config(store.dsn), "batch_size": 10}
    connector = store.connector(config)
    others_before = store.others()
    assert connector.run(_job(Action.VERIFY_ERASURE), ListSink()).found > 35

    # when
    connector.run(_job(Action.ERASE), ListSink())

    # then nothing of the subject is left and nobody else changed
    assert connector.run(_job(Action.VERIFY_ERASURE), ListSink()).found == 0
    assert store.others() == others_before


def test_erase_applies_each_strategy_to_the_subject_only(store: Helpdesk) -> None:
    # given
    connector = store.connector()
    others_before = store.others()

    # when
    outcome = connector.run(_job(Action.ERASE), ListSink())

    # then: the customer row survives, anonymised
    assert isinstance(outcome, Outcome)
    email, name, phone, crm_id = store.rows(
        "SELECT email, name, phone, crm_id FROM customers WHERE id = ?", [1]
    )[0]
    assert email == hashed("jane.doe@example.com")  # stable, keyed
    assert name is None
    assert phone is None
    assert crm_id == pseudonym(SUBJECT["crm_id"])
    assert crm_id.startswith("pseud_")
    assert len(crm_id) == 22
    # texts are redacted, and the rest of each sentence stays readable
    bodies = [
        body
        for (body,) in store.rows(
            "SELECT body FROM messages WHERE ticket_id IN "
            "(SELECT id FROM tickets WHERE customer_id = ?) ORDER BY id",
            [1],
        )
    ]
    assert bodies[0].startswith(
        "Hi, this is <PERSON>, write to <EMAIL_ADDRESS> about <ORDER_NUMBER> please."
    )
    assert bodies[1].startswith("Hello <PERSON>, sorry about <ORDER_NUMBER>.")
    assert bodies[2].startswith("You can call me on <PHONE_NUMBER> after five.")
    assert "<CREDIT_CARD> was not charged" in bodies[3]
    joined = " ".join(bodies)
    for secret in ("Jane", "Doe", "jane.doe", "7946", "4111"):
        assert secret not in joined
    subjects = [
        s
        for (s,) in store.rows("SELECT subject FROM tickets WHERE customer_id = ?", [1])
    ]
    assert all(s.startswith("<PERSON>: <ORDER_NUMBER> not delivered") for s in subjects)
    # AI logs are gone; invoices are kept, with their legal basis
    assert store.value("SELECT COUNT(*) FROM ai_conversations WHERE id IN (1, 2)") == 0
    assert store.value(
        "SELECT billing_name FROM invoices WHERE customer_id = ?", [1]
    ) == ("Jane Doe")
    assert [(e.location, e.fields, e.basis, e.count) for e in outcome.exemptions] == [
        ("invoices", ("billing_name",), "GDPR 17(3)(b)", 1)
    ]
    assert outcome.per_location == {
        "messages": {"found": 12, "changed": 12},
        "tickets": {"found": 3, "changed": 3},
        "invoices": {"found": 1, "changed": 0},
        "ai_conversations": {"found": 2, "changed": 2},
        "customers": {"found": 1, "changed": 1},
    }
    # and nobody else's data moved
    assert store.others() == others_before


def test_erasing_twice_leaves_the_store_as_erasing_once(store: Helpdesk) -> None:
    # given
    connector = store.connector()
    first = connector.erase(subject_identity())
    after_first = store.everything()

    # when
    second = connector.erase(subject_identity())

    # then: same state; the hashed customer is still found, nothing changes
    assert store.everything() == after_first
    assert first.changed == 18
    assert second.changed == 0
    assert second.per_location["customers"] == {"found": 1, "changed": 0}
    assert second.per_location["messages"] == {"found": 12, "changed": 0}
    assert second.per_location["ai_conversations"] == {"found": 0, "changed": 0}


def test_verify_finds_the_subject_before_erasure_and_nothing_after(
    store: Helpdesk,
) -> None:
    # given
    connector = store.connector()

    # when
    before = connector.run(_job(Action.VERIFY_ERASURE), ListSink())
    connector.run(_job(Action.ERASE), ListSink())
    after = connector.run(_job(Action.VERIFY_ERASURE), ListSink())

    # then
    assert isinstance(before, Outcome)
    assert isinstance(after, Outcome)
    assert before.per_location["customers"]["found"] == 1
    assert before.per_location["ai_conversations"]["found"] == 2
    assert before.per_location["messages"]["found"] == 9  # the ones naming her
    assert after.found == 0
    # kept invoices are an exemption, not a remainder
    assert [e.location for e in after.exemptions] == ["invoices"]


def test_verify_notices_an_identifier_written_after_erasure(store: Helpdesk) -> None:
    # given: erased, then an agent pastes her e-mail into a ticket again
    connector = store.connector()
    connector.erase(subject_identity())
    ticket = store.subject_ticket_ids[0]
    store.execute(
        "UPDATE messages SET body = ? WHERE id = (SELECT MIN(id) FROM messages "
        "WHERE ticket_id = ?)",
        ["Forwarded from JANE.DOE@example.com", ticket],
    )

    # when
    outcome = connector.verify_erased(subject_identity())

    # then
    assert outcome.found == 1
    assert outcome.per_location["messages"]["found"] == 1


def test_the_check_after_erasing_looks_for_the_name_the_store_no_longer_holds(
    store: Helpdesk,
) -> None:
    # given: erased (her name is nulled in customers), then her name written
    # into a message again, as a redaction that missed it would leave it
    receipt = store.connector().erase(subject_identity())
    store.execute(
        "UPDATE messages SET body = ? WHERE id = (SELECT MIN(id) FROM messages "
        "WHERE ticket_id = ?)",
        ["Jane Doe called again", store.subject_ticket_ids[0]],
    )

    # when another instance checks what remains, given the erasure's receipt
    # after a trip through JSON (as it is stored between processes)
    stored = json.loads(json.dumps(receipt.to_json()))
    outcome = store.connector().verify_erased(
        subject_identity(), ErasureReceipt.from_json(stored)
    )

    # then the name is found: the check knows what the erasure knew
    assert receipt.knows("names") == ("Jane Doe",)
    assert outcome.per_location["messages"]["found"] == 1
    # while a pass without the receipt knows only what the store still holds:
    # here the billing name on her kept invoices; without it, nothing
    later = store.connector().verify_erased(subject_identity())
    assert later.per_location["messages"]["found"] == 1
    store.execute(
        "UPDATE invoices SET billing_name = NULL WHERE customer_id = ?", [SUBJECT["id"]]
    )
    later = store.connector().verify_erased(subject_identity())
    assert later.per_location["messages"]["found"] == 0


def test_erase_deletes_children_before_their_parents(store: Helpdesk) -> None:
    # given: a map that deletes customers, so everything below goes too
    config = helpdesk_config(store.dsn)
    for table in config["tables"]:
        table["erase"] = "delete"
    connector = store.connector(config)
    others_before = store.others()

    # when
    outcome = connector.erase(subject_identity())

    # then
    assert store.value("SELECT COUNT(*) FROM customers WHERE id = ?", [1]) == 0
    assert store.value("SELECT COUNT(*) FROM tickets WHERE customer_id = ?", [1]) == 0
    assert outcome.per_location["messages"] == {"found": 12, "changed": 12}
    assert store.others() == others_before
    assert connector.verify_erased(subject_identity()).found == 0


def test_mask_and_a_kept_table_with_a_basis(store: Helpdesk) -> None:
    # given
    config = helpdesk_config(store.dsn)
    config["tables"][0]["erase"]["name"] = {"strategy": "mask", "value": "[removed]"}
    config["tables"][4] = {
        "table": "invoices",
        "parent": {"table": "customers", "column": "customer_id"},
        "erase": "keep",
        "basis": "GDPR 17(3)(b)",
        "reason": "tax law",
    }
    connector = store.connector(config)

    # when
    outcome = connector.erase(subject_identity())

    # then
    assert store.value("SELECT name FROM customers WHERE id = ?", [1]) == "[removed]"
    assert [(e.location, e.fields, e.reason) for e in outcome.exemptions] == [
        ("invoices", ("*",), "tax law")
    ]
    assert connector.verify_erased(subject_identity()).found == 0


# --- rectification, restriction, objection ------------------------------------


def test_rectify_corrects_the_subjects_name_and_reports_unknown_fields(
    store: Helpdesk,
) -> None:
    # given
    connector = store.connector()
    others_before = store.others()

    # when
    outcome = connector.run(
        _job(Action.RECTIFY, changes={"name": "Jane Smith", "shoe_size": "38"}),
        ListSink(),
    )
    again = connector.rectify(subject_identity(), {"name": "Jane Smith"})

    # then
    assert isinstance(outcome, Outcome)
    assert store.value("SELECT name FROM customers WHERE id = ?", [1]) == "Jane Smith"
    assert outcome.per_location == {"customers": {"found": 1, "changed": 1}}
    assert outcome.note == "no table holds: shoe_size"
    assert again.changed == 0
    assert store.others() == others_before


def test_rectify_follows_a_per_table_field_map(store: Helpdesk) -> None:
    # given: the request says "full_name", the invoices call it billing_name
    config = helpdesk_config(store.dsn)
    config["tables"][4]["rectify"] = {"full_name": "billing_name"}
    connector = store.connector(config)

    # when
    outcome = connector.rectify(subject_identity(), {"full_name": "Jane Smith"})

    # then
    assert store.value(
        "SELECT billing_name FROM invoices WHERE customer_id = ?", [1]
    ) == ("Jane Smith")
    assert outcome.changed == 1
    assert outcome.note == ""


def test_restrict_and_object_set_the_flags_idempotently(store: Helpdesk) -> None:
    # given
    connector = store.connector()

    # when
    restricted = connector.run(_job(Action.RESTRICT), ListSink())
    twice = connector.run(_job(Action.RESTRICT), ListSink())
    objected = connector.run(_job(Action.OBJECT), ListSink())
    lifted = connector.run(_job(Action.RESTRICT, restricted=False), ListSink())

    # then
    assert isinstance(restricted, Outcome)
    assert isinstance(twice, Outcome)
    assert (restricted.changed, twice.changed) == (1, 0)
    assert isinstance(objected, Outcome)
    assert objected.changed == 1
    assert isinstance(lifted, Outcome)
    assert lifted.changed == 1
    flags = store.rows("SELECT restricted, objected FROM customers WHERE id = ?", [1])
    assert [tuple(bool(v) for v in row) for row in flags] == [(False, True)]
    assert store.value("SELECT COUNT(*) FROM customers WHERE objected = ?", [True]) == 1


def test_restrict_without_a_flag_column_is_a_permanent_error(store: Helpdesk) -> None:
    # given
    config = helpdesk_config(store.dsn)
    config["tables"][0].pop("restrict_column")
    connector = store.connector(config)

    # when
    with pytest.raises(ConnectorError) as caught:
        connector.run(_job(Action.RESTRICT), ListSink())

    # then
    assert caught.value.permanent


# --- health and errors -------------------------------------------------------------


def test_health_is_ok_on_a_complete_store(store: Helpdesk) -> None:
    # when
    status = store.connector().health().status

    # then
    assert status.startswith("ok: 5 tables checked")


def test_health_names_a_missing_table_as_a_permanent_error(store: Helpdesk) -> None:
    # given
    store.execute("DROP TABLE messages")

    # when
    with pytest.raises(ConnectorError) as caught:
        store.connector().health()

    # then
    assert caught.value.permanent
    assert "messages" in caught.value.message


def test_health_names_a_missing_column(store: Helpdesk) -> None:
    # given
    config = helpdesk_config(store.dsn)
    config["tables"][1]["erase"] = {"subject": "redact_pii", "summary": "null"}

    # when
    with pytest.raises(ConnectorError) as caught:
        store.connector(config).health()

    # then
    assert caught.value.permanent
    assert caught.value.message == "table tickets has no column summary"


def test_a_missing_column_during_erase_fails_permanently_and_changes_nothing(
    store: Helpdesk,
) -> None:
    # given: customers are mapped with a column the store lacks
    config = helpdesk_config(store.dsn)
    config["tables"][0]["erase"]["nickname"] = "hash"
    before = store.everything()

    # when
    with pytest.raises(ConnectorError) as caught:
        store.connector(config).erase(subject_identity())

    # then: one transaction, so the messages redacted before it were rolled back
    assert caught.value.permanent
    assert "customers" in caught.value.message
    assert "Jane" not in caught.value.message
    assert store.everything() == before


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://postgres@127.0.0.1:1/helpdesk", "mysql://root@127.0.0.1:1/helpdesk"],
)
def test_an_unreachable_server_is_a_transient_error_without_the_password(
    dsn: str,
) -> None:
    # given
    config = helpdesk_config(dsn)
    password = "S3cret-Horse-Battery"
    connector = SqlConnector(name="down", config=config, secrets={"password": password})

    # when
    for action in (connector.health, lambda: connector.erase(subject_identity())):
        with pytest.raises(ConnectorError) as caught:
            action()

        # then
        assert not caught.value.permanent
        assert "connecting to" in caught.value.message
        assert password not in caught.value.message
        assert password not in repr(caught.value.__cause__ or "")


def test_a_missing_sqlite_file_is_permanent_and_not_created(tmp_path: Any) -> None:
    # given
    path = tmp_path / "nowhere.db"
    connector = SqlConnector(
        name="gone", config=helpdesk_config(f"sqlite:///{path}"), secrets={}
    )

    # when
    with pytest.raises(ConnectorError) as caught:
        connector.health()

    # then
    assert caught.value.permanent
    assert not path.exists()


def test_a_refused_login_is_permanent_and_never_shows_the_password(
    store: Helpdesk,
) -> None:
    if store.kind != "mariadb":
        pytest.skip("PostgreSQL here trusts local logins; SQLite has no login")
    # given
    password = "Wr0ng-Horse-Battery"
    connector = SqlConnector(
        name="locked", config=helpdesk_config(store.dsn), secrets={"password": password}
    )

    # when
    with pytest.raises(ConnectorError) as caught:
        connector.health()

    # then
    assert caught.value.permanent
    assert password not in caught.value.message
