"""The weaviate kind against the Weaviate stand-in (a real HTTP server on
loopback keeping collections and objects, standins.weaviate): access without
vectors, erasure repeating the capped batch delete until nothing matches,
verification, a collection listed past QUERY_MAXIMUM_RESULTS, unsafe keys
refused before anything is deleted, and the API's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import ConnectorError, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.demo.content import customer
from connectors.demo.vectors import embed
from connectors.errors import REASON_AUTH
from connectors.kinds.vectors.base import SUMMARY_LOCATION
from connectors.kinds.vectors.weaviate import WeaviateConnector
from privacydesk.errors import ValidationFailed
from standins.weaviate import StandIn, Store, start
from standins.weaviate.state import MEMORY, SUMMARY
from tests.standin_fixtures import running

pytestmark = pytest.mark.django_db

KEY = "wv-5c1e9a7f3b2d-api-key"
SUBJECT = 3  # the demo customer whose memory is asked for
CAP = 100  # QUERY_MAXIMUM_RESULTS of the stand-in


@pytest.fixture
def standin() -> Iterator[StandIn]:
    yield from running(
        start, KEY, account=Store.seeded(customers=6), query_maximum_results=CAP
    )


def connector(standin: StandIn, **config: Any) -> WeaviateConnector:
    cleaned = WeaviateConnector.validate_config(
        {
            "url": standin.url,
            "collections": [MEMORY, SUMMARY],
            "keys": {
                "email": "customer_email",
                "subject_id": "customer_id",
                "conversation_id": "conversation_id",
            },
            "subject_id_system": "crm",
            "page_size": 40,
            **config,
        }
    )
    return WeaviateConnector(
        name="support-memory", config=cleaned, secrets={"api_key": KEY}
    )


def identity(number: int = SUBJECT) -> Identity:
    # the e-mail as the customer typed it in the portal, in capitals
    return Identity(emails=(customer(number).email.title(),))


def held(standin: StandIn, number: int) -> dict[str, int]:
    """How many objects of each collection name customer `number`."""
    person, store = customer(number), standin.account
    conversation = 70_000 + number
    return {
        MEMORY: store.count(
            MEMORY,
            {
                "path": ["conversation_id"],
                "operator": "Equal",
                "valueText": str(conversation),
            },
        ),
        SUMMARY: store.count(
            SUMMARY,
            {
                "path": ["customer_email"],
                "operator": "Equal",
                "valueText": person.email,
            },
        ),
    }


def add_chunks(store: Store, number: int, count: int) -> None:
    person = customer(number)
    for index in range(count):
        text = f"{person.name} wrote about order ORD-{500000 + index}."
        store.add(
            MEMORY,
            {
                "text": text,
                "customer_email": person.email,
                "conversation_id": str(80_000 + index % 7),
                "speaker": "customer",
            },
            embed(text, 8),
        )


def test_access_gives_documents_and_metadata_never_vectors(standin: StandIn) -> None:
    before = held(standin, SUBJECT)

    records = list(connector(standin).access(identity()))

    # the subject's 4 chunks (the bot's, with no e-mail, through its
    # conversation id) and the summary (capitals, tokenized lowercase)
    by_location: dict[str, list[Any]] = {}
    for record in records:
        by_location.setdefault(record.location, []).append(record)
    assert {k: len(v) for k, v in by_location.items()} == {
        MEMORY: 4,
        SUMMARY: 1,
        SUMMARY_LOCATION: 2,
    }
    assert before == {MEMORY: 4, SUMMARY: 1}
    chunks = by_location[MEMORY]
    assert {r.data["metadata"]["speaker"] for r in chunks} == {
        "customer",
        "agent",
        "bot",
    }
    assert all(r.data["metadata"]["conversation_id"] == "70003" for r in chunks)
    assert all(isinstance(r.data["document"], str) for r in chunks)
    summaries = {r.key: r.data for r in by_location[SUMMARY_LOCATION]}
    assert summaries[MEMORY]["points"] == 4
    assert summaries[MEMORY]["dimensions"] == {"": 8}
    # no vector anywhere in the package
    for record in records:
        assert "vector" not in record.data
        assert "vector" not in record.data.get("metadata", {})


def test_erasure_repeats_the_capped_delete_until_nothing_matches(
    standin: StandIn,
) -> None:
    # given 250 chunks of the subject: three calls of at most 100 each
    add_chunks(standin.account, SUBJECT, 250)
    other = held(standin, 5)
    store = standin.account

    receipt = connector(standin).erase(identity())

    assert receipt.per_location[MEMORY]["changed"] == 254
    assert receipt.per_location[SUMMARY]["changed"] == 1
    assert store.deleted == 255
    assert store.delete_calls == 4  # 100 + 100 + 54, then the summary
    assert held(standin, SUBJECT) == {MEMORY: 0, SUMMARY: 0}
    assert held(standin, 5) == other
    # counting past the cap listed the collection by its cursor
    assert standin.stats.by_route["list"] > 0
    # and a fresh instance verifies from the receipt alone
    verified = connector(standin).verify_erased(identity(), receipt)
    assert verified.found == 0


def test_access_past_the_cap_lists_the_collection(standin: StandIn) -> None:
    add_chunks(standin.account, SUBJECT, 130)

    records = list(connector(standin).access(identity()))

    assert sum(r.location == MEMORY for r in records) == 134
    assert standin.stats.by_route["list"] >= 2  # pages of 40 over ~160 objects
    assert standin.account.deleted == 0  # dry runs delete nothing


def test_verification_finds_what_came_back(standin: StandIn) -> None:
    kind = connector(standin)
    receipt = kind.erase(identity())
    # a later chat turn of the same conversation, written after the erasure
    standin.account.add(
        MEMORY,
        {"text": "Back again.", "conversation_id": "70003", "speaker": "customer"},
        embed("Back again.", 8),
    )

    outcome = kind.verify_erased(identity(), receipt)

    assert outcome.found == 1
    assert list(outcome.per_location) == [MEMORY]
    assert outcome.per_location[MEMORY]["found"] == 1


def test_an_erase_job_runs_through_the_contract(standin: StandIn) -> None:
    kind = connector(standin)
    job = Job(
        task_id="3f2b8e0a-0000-4000-8000-0000000000aa",
        request_reference="DSR-2026-0042",
        action=Action.ERASE,
        identity=identity(),
    )

    receipt = kind.run(job, sink=None)  # type: ignore[arg-type]  # no access

    assert WeaviateConnector.verifies_in_process
    assert isinstance(receipt, ErasureReceipt)
    assert receipt.changed == 5
    assert held(standin, SUBJECT) == {MEMORY: 0, SUMMARY: 0}


def test_a_key_tokenized_by_word_is_refused_before_anything_is_deleted(
    standin: StandIn,
) -> None:
    # given a collection whose e-mail property is cut into words: "example"
    # and "com" would match other customers
    store = standin.account
    store.add_class(
        "Notes", {"text": ("text", "word"), "customer_email": ("text", "word")}
    )
    for number in (SUBJECT, 5):
        store.add("Notes", {"customer_email": customer(number).email}, [0.1, 0.2])
    kind = connector(standin, collections=[MEMORY, "Notes"])

    with pytest.raises(ConnectorError) as refused:
        kind.erase(identity())
    with pytest.raises(ConnectorError):
        kind.health()

    assert refused.value.permanent
    assert "customer_email of Notes is tokenized 'word'" in refused.value.message
    assert customer(SUBJECT).email not in refused.value.message
    assert store.deleted == 0
    assert held(standin, SUBJECT) == {MEMORY: 4, SUMMARY: 1}


def test_health_names_missing_collections_and_keys(standin: StandIn) -> None:
    report = connector(standin).health()

    assert report.status == "ok: 2 collection(s)"
    # TicketSummary holds no customer_id
    (warning,) = report.warnings
    assert warning.message.startswith(f"collection {SUMMARY} has no property")
    assert "customer_id" in warning.message
    with pytest.raises(ConnectorError) as missing:
        connector(standin, collections=[MEMORY, "Archive"]).health()
    assert missing.value.permanent
    assert "Archive" in missing.value.message


def test_a_wrong_api_key_is_refused_for_good(standin: StandIn) -> None:
    kind = connector(standin)
    kind.secrets = {"api_key": "not-the-key"}

    with pytest.raises(ConnectorError) as refused:
        kind.erase(identity())

    assert refused.value.permanent
    assert refused.value.reason == REASON_AUTH
    assert standin.account.deleted == 0


def test_rate_limits_are_waited_out() -> None:
    # given a cluster answering 429 (Retry-After) past 5 calls a second
    for standin in running(
        start,
        KEY,
        account=Store.seeded(customers=4),
        query_maximum_results=CAP,
        per_window=5,
        window_seconds=1.0,
    ):
        receipt = connector(standin).erase(identity())

        assert receipt.changed == 5
        assert held(standin, SUBJECT) == {MEMORY: 0, SUMMARY: 0}
        assert standin.stats.refused_429 > 0
        assert standin.stats.early_retries == 0  # none before Retry-After


def test_server_errors_are_retried() -> None:
    # given a cluster failing one call in ten with a 503 (a seeded draw)
    for standin in running(
        start, KEY, account=Store.seeded(customers=4), error_rate=0.1
    ):
        receipt = connector(standin).erase(identity())

        assert receipt.changed == 5
        assert held(standin, SUBJECT) == {MEMORY: 0, SUMMARY: 0}
        assert standin.stats.failed_5xx > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://weaviate.example.com"}, "config.url"),
        ({"url": "weaviate.example.com"}, "config.url"),
        ({"collections": ["support_memory"]}, "config.collections[0]"),
        ({"keys": {"fax": "fax"}}, "config.keys.fax"),
        ({"page_size": 0}, "config.page_size"),
        ({"graphql": True}, "config.graphql"),
    ],
)
def test_a_bad_config_names_its_field(change: dict[str, Any], field: str) -> None:
    config = {
        "url": "https://memory.weaviate.cloud",
        "collections": [MEMORY],
        "keys": {"email": "customer_email"},
        **change,
    }

    with pytest.raises(ValidationFailed) as refused:
        WeaviateConnector.validate_config(config)

    assert refused.value.field == field


def test_the_api_key_is_required() -> None:
    with pytest.raises(ValidationFailed) as refused:
        WeaviateConnector.validate_secrets({})

    assert refused.value.field == "secrets.api_key"
    assert WeaviateConnector.validate_secrets({"api_key": KEY}) == {"api_key": KEY}
