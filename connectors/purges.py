"""Retention purges in the connector contract (re-exported by connectors.base).

A retention policy asks a store to purge one location (an SQL table) of
rows older than a cutoff: `ConnectorKind.purge(spec, held)` gives a
`StorePurge`, which the retention service drives batch by batch, recording
a checkpoint after each so that a run resumes where it stopped. Legal holds
travel in `HeldScope` and are honoured inside the store's own statements.

Counts per location (`TableCounts`): `examined` = rows past the cutoff the
run looked at, held ones included; `changed` = rows deleted or whose values
changed; `skipped_held` = rows past the cutoff left alone because of a hold.
Keys (`upper_key`, `BatchResult.last_key`, `after_key`) are JSON-safe values,
as a run's checkpoint stores them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from connectors.values import Identity


@dataclass(frozen=True)
class PurgeSpec:
    """What one policy asks of one location."""

    table: str
    age_column: str
    cutoff: datetime
    action: str  # delete | anonymize | redact_pii
    fields: tuple[str, ...] = ()
    children: bool = True  # anonymize/redact: apply to child rows as well
    batch_size: int = 5000
    lock_timeout_ms: int = 5000


@dataclass(frozen=True)
class HeldScope:
    """What a purge must leave alone: the held subjects' identifiers (in
    memory only) and whole tables under a hold."""

    identity: Identity = field(default_factory=Identity)
    tables: frozenset[str] = frozenset()
    everything: bool = False  # a hold on the whole store

    def holds_table(self, name: str) -> bool:
        return self.everything or name in self.tables


@dataclass
class TableCounts:
    """What a purge did in one location (see the module's docstring)."""

    examined: int = 0
    changed: int = 0
    skipped_held: int = 0

    def add(self, other: TableCounts) -> None:
        self.examined += other.examined
        self.changed += other.changed
        self.skipped_held += other.skipped_held

    def as_dict(self) -> dict[str, int]:
        return {
            "examined": self.examined,
            "changed": self.changed,
            "skipped_held": self.skipped_held,
        }


@dataclass(frozen=True)
class BatchResult:
    """One finished batch: the key to resume after, and what it did."""

    last_key: Any  # JSON-safe
    counts: dict[str, TableCounts]
    transaction_ms: int  # the write transaction alone (how long locks were held)
    batch_ms: int  # reading the keys and texts, redacting, and writing


@dataclass(frozen=True)
class Location:
    """A place in a store that a retention policy or a legal hold can name
    (an SQL table): its name, the key that orders its rows, its category."""

    name: str
    key: str = ""
    category: str = ""


class StorePurge(ABC):
    """One purge of one location of one store; use it as a context manager
    (it may hold a connection to the store until it closes)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - a purge holding nothing closes nothing
        """Release what the purge holds (a connection)."""

    @abstractmethod
    def check(self) -> None:
        """Raise a permanent ConnectorError when the store lacks what the
        spec names (a column), before anything is read or written."""

    @abstractmethod
    def upper_key(self) -> Any:
        """The highest key present now (JSON-safe, None when empty): a run
        ends there, so rows added while it runs wait for the next run."""

    @abstractmethod
    def count(self, *, upper_key: Any) -> dict[str, TableCounts]:
        """The dry run: what a real run up to `upper_key` would change, per
        location, with the same conditions; nothing is written."""

    @abstractmethod
    def batches(self, *, after_key: Any, upper_key: Any) -> Iterator[BatchResult]:
        """Run the purge after `after_key` up to `upper_key`, one short
        transaction per batch."""

    @abstractmethod
    def held_counts(self, *, upper_key: Any) -> dict[str, int]:
        """Rows past the cutoff left alone because of a hold, per location."""
