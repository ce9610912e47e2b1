"""The connector contract (connectors.base) as every registered kind keeps it:
metadata read from the class, config schemas, erasure receipts, purges and
consent withdrawals through the contract alone."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connectors.base import (
    ConnectorError,
    ConnectorKind,
    Deferred,
    ErasureReceipt,
    Exemption,
    HeldScope,
    Identity,
    Job,
    Outcome,
    PurgeSpec,
    StorePurge,
    Unsupported,
    WithdrawalJob,
)
from connectors.choices import Action
from connectors.registry import KINDS, kind_class, kinds_available
from privacydesk.errors import ValidationFailed
from tests.conftest import Webhook
from tests.connectors.api_kinds import SAAS_KINDS, VECTOR_KINDS
from tests.connectors.conftest import (
    SUBJECT,
    Helpdesk,
    helpdesk_config,
    subject_identity,
)

# A config each kind accepts, and what its schema must also accept.
EXAMPLES: dict[str, dict[str, Any]] = {
    "sql": helpdesk_config("sqlite:///data/helpdesk.db"),
    "http": {
        "url": "https://crm.example.com/privacy/jobs",
        "timeout_seconds": 10,
        "actions": ["access", "erase"],
    },
    "pull": {"lease_seconds": 600, "actions": ["erase", "verify_erasure"]},
    "files": {
        "folder": "/srv/transcripts",
        "pattern": "chats-*.jsonl",
        "identity": {
            "email": ["customer.email", "cc[].email"],
            "customer_id": {"path": "customer.id", "system": "crm"},
        },
        "text_fields": ["messages[].text", "summary"],
        "erase": "redact_pii",
        "id_field": "id",
        "category": "ai_conversation",
    },
    "manual": {
        "instructions": "Log into the billing tool and delete the customer.",
        "assignee_email": "billing@example.com",
    },
    "zendesk": {"subdomain": "acme", "email": "privacy@acme.example"},
    "freshdesk": {"domain": "acme", "rate_limit_per_minute": 400},
    "intercom": {"api_host": "api.eu.intercom.io"},
    "hubspot": {"rate_limit_per_minute": 600},
    "gorgias": {"domain": "acme", "email": "privacy@acme.example"},
    "opendsr": {
        "base_url": "https://opendsr.processor.example/v1",
        "processor_domain": "opendsr.processor.example",
        "timeout_seconds": 20,
    },
    "front": {"rate_limit_per_minute": 100},
    "salesforce": {"my_domain": "acme", "job_wait_seconds": 30},
    "helpscout": {"rate_limit_per_minute": 400},
    "openai": {"api_host": "eu.api.openai.com", "subject_key": "customer_ref"},
    "azure_openai": {
        "resource": "acme-support-bot",
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    },
    "qdrant": {
        "url": "https://qdrant.internal.example:6333",
        "collections": ["support_memory", "ticket_summaries"],
        "keys": {
            "email": "metadata.customer_email",
            "subject_id": "metadata.customer_id",
            "conversation_id": "metadata.conversation_id",
        },
        "subject_id_system": "crm",
        "link": "helpdesk",
        "document_key": "page_content",
        "page_size": 500,
    },
    "pgvector": {
        "dsn": "postgresql://rag@db.internal.example:5432/assistant",
        "table": "langchain_pg_embedding",
        "columns": {"id": "id", "metadata": "cmetadata"},
        "collections": ["support_memory"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
        "link": "helpdesk",
        "page_size": 500,
    },
    "weaviate": {
        "url": "https://support-memory.weaviate.cloud",
        "collections": ["SupportMemory", "TicketSummary"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
        "link": "helpdesk",
        "document_key": "text",
        "rate_limit_per_minute": 300,
        "page_size": 200,
    },
    "chroma": {
        "url": "https://chroma.internal.example:8000",
        "tenant": "acme",
        "database": "support",
        "token_header": "X-Chroma-Token",
        "collections": ["assistant_memory"],
        "keys": {"email": "customer_email", "subject_id": "customer_id"},
        "subject_id_system": "crm",
    },
}
# A config each kind refuses, and so must its schema.
BAD: dict[str, dict[str, Any]] = {
    "sql": {"dsn": "sqlite:///x.db", "tables": [], "extra": 1},
    "http": {"url": "https://crm.example.com/jobs", "timeout_seconds": 500},
    "pull": {"lease_seconds": 5},
    "files": {"folder": "/srv/transcripts", "identity": {"fax": "customer.fax"}},
    "manual": {"instructions": "too short"},
    "zendesk": {"subdomain": "Acme Corp", "email": "privacy@acme.example"},
    "freshdesk": {"domain": "acme.freshdesk.com"},
    "intercom": {"api_host": "api.intercom.example.com"},
    "hubspot": {"portal_id": "12345"},
    "gorgias": {"domain": "acme.gorgias.com", "email": "privacy@acme.example"},
    "opendsr": {"base_url": "https://opendsr.processor.example/v1"},
    "front": {"rate_limit_per_minute": 0},
    "salesforce": {"my_domain": "acme.my.salesforce.com"},
    "helpscout": {"rate_limit_per_minute": 0},
    "openai": {"subject_key": "metadata[key]"},
    "azure_openai": {"resource": "acme.openai.azure.com", "tenant_id": "acme"},
    "qdrant": {"url": "https://qdrant.example", "collections": [], "keys": {}},
    "pgvector": {
        "dsn": "mysql://rag@db.internal.example/assistant",
        "collections": ["support_memory"],
        "keys": {"email": "customer_email"},
    },
    "weaviate": {"collections": ["SupportMemory"], "keys": {"email": "email"}},
    "chroma": {
        "url": "https://chroma.example",
        "path": "/srv/chroma",
        "collections": ["memory"],
        "keys": {"email": "email"},
    },
}
WITHDRAWN_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def helpdesk(tmp_path: Path) -> Helpdesk:
    path = tmp_path / "helpdesk.db"
    sqlite3.connect(path).close()
    store = Helpdesk(kind="sqlite", dsn=f"sqlite:///{path}")
    store.build()
    return store


def _instance(kind: str, config: dict[str, Any] | None = None) -> ConnectorKind:
    return kind_class(kind)(
        name=f"a-{kind}", config=config or EXAMPLES[kind], secrets={}
    )


def _withdrawal(action: dict[str, Any]) -> WithdrawalJob:
    return WithdrawalJob(
        task_id="3f2b8e0a-0000-4000-8000-000000000001",
        purpose="ai_training",
        withdrawn_at=WITHDRAWN_AT,
        identity=subject_identity(),
        instructions=action,
    )


# --- metadata, read from the class ---------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_says_what_it_does_on_the_class_without_an_instance(
    kind: str,
) -> None:
    cls = kind_class(kind)

    # then plain values, no property to trip over (the sql actions were one)
    assert isinstance(cls.actions, frozenset)
    assert cls.actions
    assert cls.actions <= set(Action.values)
    assert isinstance(cls.secret_fields, tuple)
    assert isinstance(cls.verifies_in_process, bool)
    assert isinstance(cls.purges, bool)
    assert isinstance(cls.withdraws_consent, bool)
    # only the manual kind is worked by people (staff mark its tasks done)
    assert cls.done_by_people is (kind == "manual")
    assert cls.kind == kind
    assert kinds_available()[kind] is cls


def test_the_evidence_pack_reads_what_a_store_does_from_its_kind() -> None:
    # given an sql map with a deleted, a kept and a column-by-column table
    sql = kind_class("sql")
    config = {
        "tables": [
            {"table": "tickets", "erase": "delete", "rectify": {"email": "e"}},
            {"table": "invoices", "erase": "keep", "basis": "tax law"},
            {
                "table": "customers",
                "erase": {"email": "hash", "name": {"strategy": "null"}},
                "rectify": {"name": "full_name", "email": "email"},
            },
        ]
    }
    # then the sql kind describes each table by its map, never a value
    assert sql.erasure_described(config, "tickets") == "rows deleted"
    assert sql.erasure_described(config, "invoices") == "rows kept (tax law)"
    assert sql.erasure_described(config, "customers") == "hashed: email; emptied: name"
    assert sql.erasure_described(config, "nowhere") == ""
    assert sql.rectification_targets(config, ["name", "email", "phone"]) == {
        "tickets": ["email"],
        "customers": ["email", "name"],
    }
    # the files kind says what it does to a conversation
    files = kind_class("files")
    assert files.erasure_described({"erase": "delete"}, "x") == "conversations deleted"
    # kinds whose store does the work say nothing of it
    for kind in ("http", "pull", "manual"):
        assert kind_class(kind).erasure_described({}, "x") == ""
        assert kind_class(kind).rectification_targets({}, ["name"]) is None


def test_a_kind_worked_by_people_says_what_they_must_do() -> None:
    config = {"instructions": "Delete the row in billing.", "assignee_email": "b@x.io"}
    manual = kind_class("manual")
    assert manual.done_by_people
    assert manual.instructions_for_people(config) == (
        "Delete the row in billing.\nAssigned to b@x.io."
    )
    assert kind_class("sql").instructions_for_people(config) == ""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_describes_its_config_as_json_schema(kind: str) -> None:
    schema = kind_class(kind).config_schema()

    # then a valid JSON Schema of an object, naming what the kind reads
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(EXAMPLES[kind]) <= set(schema["properties"])
    # that accepts a config the kind accepts and refuses one it refuses
    jsonschema.Draft202012Validator(schema).validate(EXAMPLES[kind])
    assert not jsonschema.Draft202012Validator(schema).is_valid(BAD[kind])


@pytest.mark.parametrize(
    "kind",
    [
        "sql",
        "http",
        "pull",
        "manual",
        "opendsr",
        *SAAS_KINDS,
        *VECTOR_KINDS,
    ],
)
def test_the_examples_are_configs_the_kind_itself_accepts(kind: str) -> None:
    # (files checks its folder against the host's allowed roots: not here)
    cls = kind_class(kind)

    cls.validate_config(EXAMPLES[kind])
    with pytest.raises(ValidationFailed):
        cls.validate_config(BAD[kind])


def test_the_sql_schema_describes_the_tables_of_the_map() -> None:
    from connectors.kinds.sql.config import TABLE_KEYS, TOP_KEYS

    schema = kind_class("sql").config_schema()

    assert set(schema["properties"]) == TOP_KEYS
    assert set(schema["$defs"]["table"]["properties"]) == TABLE_KEYS
    validator = jsonschema.Draft202012Validator(schema)
    table = EXAMPLES["sql"]["tables"][0]
    assert not validator.is_valid(
        {"dsn": "sqlite:///x.db", "tables": [{**table, "erase": {"email": "burn"}}]}
    )
    assert not validator.is_valid(
        {"dsn": "sqlite:///x.db", "tables": [{**table, "table": "a b"}]}
    )


def test_an_instance_offers_what_its_config_allows() -> None:
    # given an sql map with no flag column, and a webhook doing two actions
    config = helpdesk_config("sqlite:///data/helpdesk.db")
    for table in config["tables"]:
        table.pop("restrict_column", None)
        table.pop("objection_column", None)

    # then the instances narrow what the class says the kind can do
    assert Action.RESTRICT in kind_class("sql").actions
    assert Action.RESTRICT not in _instance("sql", config).actions
    assert _instance("http").actions == {"access", "erase"}


# --- erasure receipts --------------------------------------------------------------


def test_a_receipt_survives_json_and_refuses_what_is_not_one() -> None:
    receipt = ErasureReceipt(
        found=3,
        changed=2,
        exemptions=[Exemption("invoices", ("billing_name",), "GDPR 17(3)(b)", "tax")],
        note="done",
        kind="sql",
        known={"names": ("Jane Doe",), "phones": ("+44 20 7946 0958",)},
    )
    receipt.add("customers", found=1, changed=1)

    again = ErasureReceipt.from_json(json.loads(json.dumps(receipt.to_json())))

    assert again == receipt
    assert again.knows("names") == ("Jane Doe",)
    assert again.knows("emails") == ()
    for garbage in (None, [], {"version": 99}, {**receipt.to_json(), "found": -1}):
        with pytest.raises(ValueError, match="receipt|count"):
            ErasureReceipt.from_json(garbage)


def test_a_fresh_instance_verifies_from_the_receipt_of_another(
    helpdesk: Helpdesk,
) -> None:
    # given an erasure through one instance, then her name written back
    receipt = helpdesk.connector().erase(subject_identity())
    helpdesk.execute(
        "UPDATE messages SET body = ? WHERE ticket_id = ?",
        ["Jane Doe wrote again", helpdesk.subject_ticket_ids[1]],
    )

    # when another instance runs the verification job with the receipt
    job = Job(
        task_id="t",
        request_reference="DSR-2026-000001",
        action=Action.VERIFY_ERASURE,
        identity=subject_identity(),
        receipt=ErasureReceipt.from_json(receipt.to_json()),
    )
    outcome = helpdesk.connector().run(job, sink=_NoRecords())

    # then it finds every message naming her; without the receipt (and with
    # her kept invoices' billing name gone too), none
    assert isinstance(outcome, Outcome)
    assert outcome.per_location["messages"]["found"] == 4
    helpdesk.execute(
        "UPDATE invoices SET billing_name = NULL WHERE customer_id = ?", [SUBJECT["id"]]
    )
    bare = helpdesk.connector().verify_erased(subject_identity())
    assert bare.per_location["messages"]["found"] == 0


class _NoRecords:
    def write(self, record: Any) -> None:
        raise AssertionError("verification writes no records")


# --- retention through the contract --------------------------------------------------


def test_an_sql_purge_runs_through_the_contract_and_leaves_the_held_alone(
    helpdesk: Helpdesk,
) -> None:
    # given every AI conversation is past the cutoff, and Jane is held
    total = helpdesk.value("SELECT COUNT(*) FROM ai_conversations")
    spec = PurgeSpec(
        table="ai_conversations",
        age_column="created_at",
        cutoff=datetime(2030, 1, 1, tzinfo=UTC),
        action="delete",
        batch_size=5,
    )
    held = HeldScope(identity=subject_identity())

    # when the store's purge runs, dry first, then batch by batch
    with helpdesk.connector().purge(spec, held) as purge:
        assert isinstance(purge, StorePurge)
        purge.check()
        upper = purge.upper_key()
        dry = purge.count(upper_key=upper)
        batches = list(purge.batches(after_key=None, upper_key=upper))
        kept = purge.held_counts(upper_key=upper)

    # then everything but the held rows went, as the dry run said
    left = helpdesk.value("SELECT COUNT(*) FROM ai_conversations")
    assert left == kept["ai_conversations"] == 2
    assert dry["ai_conversations"].changed == total - 2
    assert dry["ai_conversations"].skipped_held == 2
    assert sum(b.counts["ai_conversations"].changed for b in batches) == total - 2
    # and every key can go into a run's checkpoint as it is
    json.dumps([upper, *(batch.last_key for batch in batches)])


def test_a_purge_the_store_cannot_run_is_refused_for_good(helpdesk: Helpdesk) -> None:
    spec = PurgeSpec(
        table="invoices",
        age_column="created_at",
        cutoff=datetime(2030, 1, 1, tzinfo=UTC),
        action="delete",
    )
    with pytest.raises(ConnectorError) as unmapped:
        helpdesk.connector({**helpdesk_config(helpdesk.dsn), "tables": []}).purge(
            spec, HeldScope()
        )
    with pytest.raises(ConnectorError) as no_column:
        with helpdesk.connector().purge(spec, HeldScope()) as purge:
            purge.check()
    assert unmapped.value.permanent
    assert no_column.value.permanent
    assert "has no column created_at" in no_column.value.message


@pytest.mark.parametrize(
    "kind",
    [
        "http",
        "pull",
        "files",
        "manual",
        "opendsr",
        *SAAS_KINDS,
        *VECTOR_KINDS,
    ],
)
def test_a_kind_that_cannot_purge_says_so_through_the_contract(kind: str) -> None:
    spec = PurgeSpec(
        table="t", age_column="c", cutoff=datetime(2030, 1, 1, tzinfo=UTC), action="x"
    )

    assert kind_class(kind).purges is False
    with pytest.raises(Unsupported) as refused:
        _instance(kind).purge(spec, HeldScope())
    assert isinstance(refused.value, ConnectorError)
    assert refused.value.permanent
    assert "cannot purge by age" in refused.value.message
    assert _instance(kind).locations() is None


def test_the_sql_kind_names_its_tables_and_checks_names_its_way() -> None:
    locations = _instance("sql").locations()

    assert locations is not None
    by_name = {location.name: location for location in locations}
    assert by_name["customers"].key == "id"
    assert by_name["invoices"].category == "billing"
    assert kind_class("sql").name_clean(" tickets ", field="table") == "tickets"
    with pytest.raises(ValidationFailed) as refused:
        kind_class("sql").name_clean("tickets; DROP", field="fields[0]")
    assert refused.value.field == "fields[0]"


# --- consent withdrawals -------------------------------------------------------------


def test_the_sql_kind_sets_the_flag_once_and_refuses_a_bad_action(
    helpdesk: Helpdesk,
) -> None:
    connector = helpdesk.connector()
    flag = {"set": {"table": "customers", "column": "objected", "value": True}}

    first = connector.withdraw_consent(_withdrawal(flag))
    second = connector.withdraw_consent(_withdrawal(flag))

    assert isinstance(first, Outcome)
    assert isinstance(second, Outcome)
    assert (first.changed, second.changed) == (1, 0)
    assert helpdesk.value("SELECT objected FROM customers WHERE id = 1") == 1
    assert helpdesk.value("SELECT COUNT(*) FROM customers WHERE objected = 1") == 1
    with pytest.raises(ConnectorError) as refused:
        connector.withdraw_consent(_withdrawal({"delete": {"table": "orders"}}))
    assert refused.value.permanent
    assert "not in the connector's map" in refused.value.message


def test_the_sql_kind_checks_a_links_action_against_its_map() -> None:
    sql = kind_class("sql")
    config = EXAMPLES["sql"]
    action = {"delete": {"table": "ai_conversations"}}

    assert sql.withdrawal_action_clean(action, config=config) == action
    with pytest.raises(ValidationFailed) as unmapped:
        sql.withdrawal_action_clean({"delete": {"table": "orders"}}, config=config)
    with pytest.raises(ValidationFailed) as broken:
        sql.withdrawal_action_clean(action, config={"dsn": "sqlite:///x.db"})
    assert unmapped.value.field == "action.delete.table"
    assert broken.value.field == "action.delete.table"
    # kinds that send the action on take any object, and nothing else
    assert kind_class("http").withdrawal_action_clean({"job": 1}, config={}) == {
        "job": 1
    }
    with pytest.raises(ValidationFailed):
        kind_class("pull").withdrawal_action_clean(["job"], config={})


def test_the_http_kind_sends_the_withdrawal_and_reads_the_answer(
    webhook: Webhook, settings: Any
) -> None:
    settings.SITE_URL = "https://desk.example.com"
    connector = kind_class("http")(
        name="crm",
        config={"url": webhook.url, "timeout_seconds": 2},
        secrets={"signing_key": "whsec-test-0123456789abcdef"},
    )
    webhook.reply = (200, {"status": "done", "changed": 2, "note": "flag set"})

    done = connector.withdraw_consent(_withdrawal({"job": "opt_out"}))
    webhook.reply = (202, {"reference": "job-9"})
    later = connector.withdraw_consent(_withdrawal({"job": "opt_out"}))
    webhook.reply = (200, {"status": "failed", "error": "no", "retryable": False})
    with pytest.raises(ConnectorError) as failed:
        connector.withdraw_consent(_withdrawal({"job": "opt_out"}))

    assert isinstance(done, Outcome)
    assert (done.changed, done.note) == (2, "flag set")
    assert later == Deferred(
        reference="job-9", note="crm accepted the job; waiting for its callback"
    )
    assert failed.value.permanent
    document = webhook.received[0].json()
    assert document["action"] == "consent_withdrawn"
    assert document["instructions"] == {"job": "opt_out"}
    assert document["callback_url"] == (
        "https://desk.example.com/api/v1/connector-callbacks/consent/"
        "3f2b8e0a-0000-4000-8000-000000000001/"
    )


def test_the_pull_kind_parks_the_withdrawal_for_its_agent() -> None:
    outcome = _instance("pull").withdraw_consent(_withdrawal({"job": "opt_out"}))

    assert isinstance(outcome, Deferred)
    assert "waiting for the agent" in outcome.note


@pytest.mark.parametrize(
    "kind",
    ["files", "manual", *SAAS_KINDS, *VECTOR_KINDS],
)
def test_a_kind_that_cannot_withdraw_says_so(kind: str) -> None:
    assert kind_class(kind).withdraws_consent is False
    with pytest.raises(Unsupported) as refused:
        _instance(kind).withdraw_consent(_withdrawal({}))
    assert "not supported yet" in refused.value.message


# --- agents ---------------------------------------------------------------------------


def test_only_the_pull_kind_leases_its_jobs() -> None:
    lease = _instance("pull").job_lease()

    assert lease is not None
    assert lease.total_seconds() == 600
    for kind in (
        "sql",
        "http",
        "files",
        "manual",
        *SAAS_KINDS,
        *VECTOR_KINDS,
    ):
        assert _instance(kind).job_lease() is None


def test_an_identity_with_nothing_to_match_changes_nothing(helpdesk: Helpdesk) -> None:
    flag = {"set": {"table": "customers", "column": "objected", "value": True}}
    job = replace(_withdrawal(flag), identity=Identity())

    outcome = helpdesk.connector().withdraw_consent(job)

    assert isinstance(outcome, Outcome)
    assert outcome.changed == 0
    assert helpdesk.value("SELECT COUNT(*) FROM customers WHERE objected = 1") == 0
