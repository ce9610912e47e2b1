"""What each erasure strategy writes, how to tell it already ran, and how a
stored value travels as JSON."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any
from uuid import UUID

from connectors.kinds.sql.config import FieldRule
from connectors.redaction import KnownIdentifiers, redact
from privacydesk.crypto import keyed_hash, normalise_identifier

HASH_SHAPE = re.compile(r"[0-9a-f]{64}")
PSEUDONYM_SHAPE = re.compile(r"pseud_[0-9a-f]{16}")


def hashed(value: str) -> str:
    """The stable keyed hash the `hash` strategy writes."""
    return keyed_hash(value, purpose="connector.sql.hash")


def pseudonym(value: str) -> str:
    """The stable token the `pseudonymize` strategy writes."""
    return "pseud_" + keyed_hash(value, purpose="connector.sql.pseudonym")[:16]


def apply_rule(rule: FieldRule, value: Any, kind: str, known: KnownIdentifiers) -> Any:
    """The value a column holds after erasure (unchanged when already erased)."""
    if value is None or rule.strategy == "keep":
        return value
    if rule.strategy == "null":
        return None
    if rule.strategy == "mask":
        return rule.mask
    if rule.strategy == "redact_pii":
        return redact(value, known=known)[0] if isinstance(value, str) else value
    text = str(value)
    # Identity values are normalised first, so the keyed form can be matched
    # again from the subject's identifiers on a second run.
    source = normalise_identifier(kind, text) if kind else text
    if rule.strategy == "hash":
        return text if HASH_SHAPE.fullmatch(text) else hashed(source)
    return text if PSEUDONYM_SHAPE.fullmatch(text) else pseudonym(source)


def still_holds(rule: FieldRule, value: Any, known: KnownIdentifiers) -> bool:
    """Whether a column still holds what its strategy should have removed."""
    if value is None or rule.strategy == "keep":
        return False
    if rule.strategy == "null":
        return True
    if rule.strategy == "mask":
        return bool(value != rule.mask)
    if rule.strategy == "hash":
        return not HASH_SHAPE.fullmatch(str(value))
    if rule.strategy == "pseudonymize":
        return not PSEUDONYM_SHAPE.fullmatch(str(value))
    return isinstance(value, str) and known.found_in(value)


# Values JSON carries as they are (most of a row: text, numbers, NULL).
_JSON_AS_IS = frozenset({str, int, float, bool, type(None)})
_DATETIME_OR_NULL = frozenset({datetime, type(None)})


def json_rows(
    rows: Sequence[Sequence[Any]],
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Each row's key (its first value) as text and its other values as JSON
    can carry them (json_safe), converted a column at a time: in a batch,
    most columns need nothing, and a timestamp column only isoformat."""
    if not rows:
        return iter(())
    columns = list(zip(*rows, strict=True))
    keys = map(str, columns[0])
    if len(columns) == 1:
        return zip(keys, repeat((), len(rows)), strict=True)
    return zip(keys, zip(*map(_json_column, columns[1:]), strict=True), strict=True)


def _json_column(values: tuple[Any, ...]) -> Sequence[Any]:
    types = set(map(type, values))
    if types <= _JSON_AS_IS:
        return values
    if types <= _DATETIME_OR_NULL:
        return [None if v is None else v.isoformat() for v in values]
    return [v if type(v) in _JSON_AS_IS else json_safe(v) for v in values]


def json_safe(value: Any) -> Any:
    """A value as JSON can carry it: dates as ISO text, bytes as base64."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)
