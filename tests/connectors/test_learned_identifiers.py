"""What an erasure learns from the store joins what it redacts and what its
verification searches for (issue 15, "Redaction quality, measured").

The issue's case: the map finds the customer by e-mail alone and nulls her
phone column; her messages quote that phone as people write it. And a
transcript that thanks her by her given name alone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ErasureReceipt, Identity
from connectors.demo.config import FILES_CONNECTOR_CONFIG
from connectors.kinds.files import FilesConnector
from connectors.learned_identifiers import (
    field_kind,
    learned_from_json,
    names_from_email,
)
from tests.connectors.conftest import SUBJECT, Helpdesk, helpdesk_config

BY_EMAIL = Identity(emails=("jane.doe@example.com",))

# (the phone as her customer row holds it, the ways her messages write it)
PHONES = {
    "gb": (
        "+44 7700 900123",
        [
            "+44 7700 900123",
            "07700 900123",
            "0044 7700 900123",
            "+44 (0)7700 900-123",
            "(07700) 900123",
            "+447700900123",
        ],
    ),
    "us": (
        "(404) 555-4383",
        ["(404) 555-4383", "+1-404-555-4383", "404.555.4383", "1 404 555 4383"],
    ),
    "us-e164": ("+18225558348", ["+1-822-555-8348", "(822) 555-8348", "822-555-8348"]),
    "de": ("+49 151 23456789", ["0151 23456789", "+49 151 2345 6789", "0151/23456789"]),
}


def _by_email_map(dsn: str) -> dict[str, Any]:
    """The demo map, finding the customer by e-mail only (the issue's)."""
    config = helpdesk_config(dsn)
    customers = config["tables"][0]
    customers["identity"] = {"email": "email"}
    return config


def _her_messages(store: Helpdesk, texts: list[str]) -> list[int]:
    ticket = store.subject_ticket_ids[0]
    ids = list(range(900_001, 900_001 + len(texts)))
    store.execute_many(
        "INSERT INTO messages (id, ticket_id, author, body) VALUES (?, ?, ?, ?)",
        [
            [i, ticket, "customer", f"Call me on {t} after six."]
            for i, t in zip(ids, texts, strict=True)
        ],
    )
    return ids


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("region", list(PHONES))
def test_her_nulled_phone_column_is_redacted_in_every_format_and_searched_after(
    store: Helpdesk, region: str
) -> None:
    # given: her row holds the phone; the map finds her by e-mail and nulls it
    stored, written = PHONES[region]
    store.execute(
        "UPDATE customers SET phone = ? WHERE id = ?", [stored, SUBJECT["id"]]
    )
    ids = _her_messages(store, written)
    connector = store.connector(_by_email_map(store.dsn))

    # when
    receipt = connector.erase(BY_EMAIL)

    # then: no message of hers holds the number, however it was written
    national = _digits(stored)[-9:]
    bodies = store.rows(
        f"SELECT body FROM messages WHERE id IN ({', '.join('?' * len(ids))})", ids
    )
    assert [body for (body,) in bodies if national in _digits(body)] == []
    assert all("<PHONE_NUMBER>" in body for (body,) in bodies)
    assert (
        store.value("SELECT phone FROM customers WHERE id = ?", [SUBJECT["id"]]) is None
    )
    # and the receipt carries it, so the check can look for what is gone
    assert stored in receipt.knows("phones")
    stored_receipt = ErasureReceipt.from_json(json.loads(json.dumps(receipt.to_json())))
    assert connector.verify_erased(BY_EMAIL, stored_receipt).found == 0

    # when an agent pastes her number back, in another format
    store.execute(
        "UPDATE messages SET body = ? WHERE id = ?",
        [f"her number is {written[-1]}", ids[0]],
    )
    outcome = connector.verify_erased(BY_EMAIL, stored_receipt)

    # then the verification finds it
    assert outcome.per_location["messages"]["found"] == 1


def test_other_identity_like_columns_are_learned_and_others_rows_untouched(
    store: Helpdesk,
) -> None:
    # given: her CRM number quoted in a message; the map does not find her by it
    ids = _her_messages(store, [f"my account {SUBJECT['crm_id']}"])
    before = store.others()
    connector = store.connector(_by_email_map(store.dsn))

    # when
    receipt = connector.erase(BY_EMAIL)

    # then
    body = store.value("SELECT body FROM messages WHERE id = ?", [ids[0]])
    assert SUBJECT["crm_id"] not in body
    assert SUBJECT["crm_id"] in receipt.knows("customer_ids")
    assert store.others() == before


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("phone", "phones"),
        ("mobile_number", "phones"),
        ("customer.phone", "phones"),
        ("secondary_email", "emails"),
        ("first_name", "names"),
        ("lastName", "names"),
        ("surname", "names"),
        ("crm_id", "customer_ids"),
        ("notes", None),
        ("product_name", None),
        ("ticket_id", None),
    ],
)
def test_identity_like_fields_are_told_by_their_names(name: str, kind: str) -> None:
    assert field_kind(name) == kind


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("felix.becker.123@example.com", ("Felix Becker",)),
        ("felix_becker@example.com", ("Felix Becker",)),
        ("fbecker@example.com", ()),
        ("info.sales@example.com", ()),
    ],
)
def test_a_first_last_address_spells_the_name(
    address: str, names: tuple[str, ...]
) -> None:
    assert names_from_email(address) == names


# --- the files kind ------------------------------------------------------------

FELIX = Identity(emails=("felix.becker.7@example.com",))


def _conversation(chat_id: str, email: str, phone: str, *texts: str) -> str:
    """A chat transcript line as the demo writes them (FILES_CONNECTOR_CONFIG)."""
    return json.dumps(
        {
            "id": chat_id,
            "customer": {"email": email, "phone": phone, "id": f"C-{chat_id[-4:]}"},
            "messages": [{"role": "assistant", "text": t} for t in texts],
            "summary": "Customer asked about ORD-552211.",
        }
    )


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "chats-0000.jsonl").write_text(
        "\n".join(
            [
                _conversation(
                    "chat-0001",
                    "felix.becker.7@example.com",
                    "+44 7700 900456",
                    "Thanks Felix. I found order ORD-552211.",
                    "Mr Becker, I've noted your new number 07700 900456.",
                ),
                # another Felix, who is not her: his name stays
                _conversation(
                    "chat-0002",
                    "felix.schmidt.9@example.com",
                    "+49 151 11122233",
                    "Thanks Felix. Your parcel ships tomorrow.",
                ),
            ]
        )
        + "\n"
    )
    return folder


def _chats(folder: Path) -> dict[str, dict[str, Any]]:
    lines = (folder / "chats-0000.jsonl").read_text().splitlines()
    return {chat["id"]: chat for chat in map(json.loads, lines)}


def test_her_given_name_alone_in_her_own_transcript_is_redacted_and_searched(
    transcripts: Path,
) -> None:
    # given
    connector = FilesConnector(
        name="chats",
        config={"folder": str(transcripts), **FILES_CONNECTOR_CONFIG},
        secrets={},
    )

    # when
    receipt = connector.erase(FELIX)

    # then: her conversation names her no more, by name or by phone
    chats = _chats(transcripts)
    hers = json.dumps(chats["chat-0001"])
    assert "Felix" not in hers
    assert "Becker" not in hers
    assert "900456" not in hers
    assert chats["chat-0001"]["messages"][0]["text"].startswith("Thanks <PERSON>.")
    # the other Felix's conversation is untouched
    assert chats["chat-0002"]["messages"][0]["text"] == (
        "Thanks Felix. Your parcel ships tomorrow."
    )
    stored = ErasureReceipt.from_json(json.loads(json.dumps(receipt.to_json())))
    assert connector.verify_erased(FELIX, stored).found == 0

    # when her name is written back into her (erased) conversation
    chats["chat-0001"]["messages"][0]["text"] = "Thanks Felix."
    (transcripts / "chats-0000.jsonl").write_text(
        "\n".join(json.dumps(chat) for chat in chats.values()) + "\n"
    )
    outcome = connector.verify_erased(FELIX, stored)

    # then the check finds it there, and only there
    assert outcome.found == 1


def test_a_document_teaches_its_subjects_fields_not_a_products_or_an_agents() -> None:
    # given
    document = {
        "customer": {"email": "felix.becker.7@example.com", "phone": "07700 900456"},
        "product": {"name": "Blender"},
        "messages": [{"author": {"name": "Support Agent", "email": "a@shop.example"}}],
        "first_name": "Felix",
    }
    learned: dict[str, set[str]] = {}

    # when
    learned_from_json(document, learned)

    # then
    assert learned == {
        "emails": {"felix.becker.7@example.com"},
        "phones": {"07700 900456"},
        "names": {"Felix Becker", "Felix"},
    }
