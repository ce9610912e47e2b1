"""The hash chain: how an event is encoded and hashed, and how a chain is checked.

hash = SHA-256(prev_hash || canonical JSON of the event's fields). Changing,
removing or reordering any event breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64


class ChainedEvent(Protocol):
    sequence: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: Any
    prev_hash: str
    hash: str


def canonical_event(
    *,
    sequence: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
) -> str:
    return json.dumps(
        {
            "sequence": sequence,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _event_fields(event: ChainedEvent) -> dict[str, Any]:
    """What the hash covers besides the sequence number and the link."""
    return {
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
    }


def canonical_prefix(event: ChainedEvent) -> str:
    """The event's canonical JSON up to its sequence number, which sorts
    last: canonical_event(...) == canonical_prefix(event) + str(sequence) + "}".

    Lets the database, which alone knows the next number under its lock,
    finish the text and hash it (see audit/migrations/0004_append_many)."""
    text = canonical_event(sequence=0, **_event_fields(event))
    suffix = '"sequence":0}'
    if not text.endswith(suffix):  # a new key sorting after "sequence"
        raise AssertionError("the sequence number must be the last canonical key")
    return text[: -len(suffix)] + '"sequence":'


def event_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def hash_of(event: ChainedEvent) -> str:
    canonical = canonical_event(sequence=event.sequence, **_event_fields(event))
    return event_hash(event.prev_hash, canonical)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head_hash: str
    first_bad_sequence: int | None = None
    problem: str = ""


def verify_chain(events: Iterable[ChainedEvent]) -> ChainReport:
    """Walk events in sequence order and report the first broken link."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    count = 0
    for event in events:
        if event.sequence != expected_sequence:
            return ChainReport(
                False,
                count,
                expected_prev,
                event.sequence,
                f"expected event #{expected_sequence} but found #{event.sequence}: "
                "an event was removed or reordered",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                count,
                expected_prev,
                event.sequence,
                f"event #{event.sequence} does not link to the event before it",
            )
        if hash_of(event) != event.hash:
            return ChainReport(
                False,
                count,
                expected_prev,
                event.sequence,
                f"event #{event.sequence} was altered: "
                "its content no longer matches its hash",
            )
        expected_prev = event.hash
        expected_sequence += 1
        count += 1
    return ChainReport(True, count, expected_prev)
