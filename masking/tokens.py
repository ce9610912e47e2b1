"""Tokens: what a masked text says instead of a value (`<EMAIL_1>`).

Short entity names for the detector's entities, the normalised form two
spellings of one value share (so "Jane.Doe@Example.com" and
"jane.doe@example.com" get one token), the keyed hash a value is found by,
and the tokens a model's reply holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from privacydesk import crypto

# The detector's entity names (connectors.redaction) -> the token's. An entity
# the detector learns later keeps its own name (made token-safe).
SHORT_NAMES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "PERSON": "PERSON",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "ORDER_NUMBER": "ORDER",
    "CUSTOMER_ID": "CUSTOMER_ID",
    "LOCATION": "ADDRESS",
    "STREET_ADDRESS": "ADDRESS",
    "ADDRESS": "ADDRESS",
}
_UNSAFE = re.compile(r"[^A-Z_]+")
# `<ENTITY_n>`: the entity is upper-case letters and underscores, n from 1.
TOKEN = re.compile(r"<([A-Z][A-Z_]{0,28}[A-Z])_([1-9]\d{0,8})>")
_SPACES = re.compile(r"\s+")
_DIGITS_AND_PLUS = re.compile(r"[^\d+]")
_ALNUM = re.compile(r"[^0-9A-Z]")
HASH_PURPOSE = "masking-vault"


def short_entity(entity: str) -> str:
    """The token's name for a detector entity (`EMAIL_ADDRESS` -> `EMAIL`)."""
    known = SHORT_NAMES.get(entity)
    if known is not None:
        return known
    return _UNSAFE.sub("_", entity.upper()).strip("_")[:30] or "PII"


def normalise(entity: str, value: str) -> str:
    """The form two spellings of one value share, per token entity."""
    value = unicodedata.normalize("NFKC", value).strip()
    if entity == "EMAIL":
        return value.casefold()
    if entity == "PHONE":
        digits = _DIGITS_AND_PLUS.sub("", value)
        return digits.lstrip("+").lstrip("0")
    if entity in ("CARD", "IBAN", "ORDER", "CUSTOMER_ID", "IP"):
        return _ALNUM.sub("", value.upper())
    return _SPACES.sub(" ", value).casefold()


def value_hash(
    *, subject_id: int, conversation_id: str, entity: str, value: str
) -> str:
    """The keyed hash a value is stored and found by. Scoped to the subject
    and conversation, so equal values in two conversations are unlinkable."""
    return normalised_hash(
        subject_id=subject_id,
        conversation_id=conversation_id,
        entity=entity,
        normalised=normalise(entity, value),
    )


def normalised_hash(
    *, subject_id: int, conversation_id: str, entity: str, normalised: str
) -> str:
    """`value_hash` of a value already normalised (`normalise(entity, value)`)."""
    message = f"{subject_id}|{conversation_id}|{entity}|{normalised}"
    return crypto.keyed_hash(message, purpose=HASH_PURPOSE)


def token_text(entity: str, number: int) -> str:
    return f"<{entity}_{number}>"


@dataclass(frozen=True)
class TokenSpan:
    """A token found in a text (a model's reply) at `text[start:end]`."""

    start: int
    end: int
    entity: str
    number: int


def find_tokens(text: str) -> list[TokenSpan]:
    return [
        TokenSpan(m.start(), m.end(), m.group(1), int(m.group(2)))
        for m in TOKEN.finditer(text)
    ]
