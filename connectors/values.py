"""The values the connector contract speaks (re-exported by connectors.base):
the subject as a store sees it, the records found, and what an action did,
including erasure's receipt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

# The subject's identifiers are a foundation type (subjects builds them,
# connectors use them; neither imports the other), part of the contract.
from privacydesk.identity import Identity as Identity


@dataclass(frozen=True)
class AccessRecord:
    """One record found for the subject."""

    location: str  # table, file or object name
    key: str  # primary key or line reference within the location
    data: Mapping[str, Any]
    category: str = ""  # e.g. "contact", "support_ticket", "ai_conversation"


@dataclass(frozen=True)
class Exemption:
    """Data deliberately kept, with its legal basis (e.g. GDPR 17(3)(b)).

    `until` (an ISO date) is the day until which it may persist, when that
    is known: a model provider's abuse-monitoring logs outlive the delete
    of a stored completion by at most its retention window."""

    location: str
    fields: tuple[str, ...]
    basis: str
    reason: str
    count: int = 0
    until: str = ""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "location": self.location,
            "fields": list(self.fields),
            "basis": self.basis,
            "reason": self.reason,
            "count": self.count,
        }
        if self.until:
            document["until"] = self.until
        return document

    @classmethod
    def from_json(cls, data: Any) -> Exemption:
        """Raise ValueError when `data` is not what `to_json` wrote."""
        if not isinstance(data, Mapping):
            raise ValueError("an exemption must be an object")
        return cls(
            location=_text(data.get("location")),
            fields=_texts(data.get("fields")),
            basis=_text(data.get("basis")),
            reason=_text(data.get("reason")),
            count=_count(data.get("count", 0)),
            until=_text(data.get("until", "")),
        )


@dataclass
class Outcome:
    """What an action found and did. Counts only; no personal data."""

    found: int = 0
    changed: int = 0
    exemptions: list[Exemption] = field(default_factory=list)
    per_location: dict[str, dict[str, int]] = field(default_factory=dict)
    note: str = ""

    def add(self, location: str, *, found: int = 0, changed: int = 0) -> None:
        self.found += found
        self.changed += changed
        counts = self.per_location.setdefault(location, {"found": 0, "changed": 0})
        counts["found"] += found
        counts["changed"] += changed


@dataclass
class ErasureReceipt(Outcome):
    """What an erasure did (its counts per location and its exemptions) and
    what it knew of the subject that the store may no longer hold (the name
    read from a row it then blanked), so that `verify_erased` checks as much
    in any process, on any instance, as right after the erasure.

    `known` maps a kind of identifier ("emails", "phones", "customer_ids",
    "names") to the values the erasure looked for. It is personal data: a
    receipt is stored only encrypted (dsr.RequestTask.erasure_receipt) and
    never logged or sent to a worker as a task argument."""

    VERSION: ClassVar[int] = 1

    kind: str = ""  # the connector kind that erased
    known: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The receipt as a JSON document (for an encrypted field)."""
        return {
            "version": self.VERSION,
            "kind": self.kind,
            "found": self.found,
            "changed": self.changed,
            "per_location": {
                location: dict(counts) for location, counts in self.per_location.items()
            },
            "exemptions": [exemption.to_json() for exemption in self.exemptions],
            "note": self.note,
            "known": {kind: list(values) for kind, values in self.known.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> ErasureReceipt:
        """The receipt `to_json` wrote; ValueError when `data` is not one."""
        if not isinstance(data, Mapping) or data.get("version") != cls.VERSION:
            raise ValueError("not an erasure receipt of this version")
        per_location = data.get("per_location", {})
        known = data.get("known", {})
        exemptions = data.get("exemptions", [])
        if not isinstance(per_location, Mapping) or not isinstance(known, Mapping):
            raise ValueError("per_location and known must be objects")
        if not isinstance(exemptions, list):
            raise ValueError("exemptions must be a list")
        return cls(
            found=_count(data.get("found", 0)),
            changed=_count(data.get("changed", 0)),
            exemptions=[Exemption.from_json(item) for item in exemptions],
            per_location={
                _text(location): {
                    _text(name): _count(value) for name, value in _items(counts)
                }
                for location, counts in per_location.items()
            },
            note=_text(data.get("note", "")),
            kind=_text(data.get("kind", "")),
            known={_text(kind): _texts(values) for kind, values in known.items()},
        )

    def knows(self, kind: str) -> tuple[str, ...]:
        """The values of one kind of identifier the erasure knew."""
        return self.known.get(kind, ())


@dataclass(frozen=True)
class Deferred:
    """The job was handed over; its result will be reported later.

    An erasure the store finishes on its own by a date (a vendor that deletes
    "within N days") gives `check_at`, that date, and `receipt`, what the
    erasure did and knew: the task waits until then, and is done only when
    `verify_erased(identity, receipt)`, asked after `check_at`, finds nothing
    (dsr.services.execution.waiting)."""

    reference: str = ""
    note: str = ""
    check_at: datetime | None = None
    receipt: ErasureReceipt | None = None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of text")
    return tuple(_text(item) for item in value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a count")
    return value


def _items(value: Any) -> list[tuple[Any, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError("expected an object")
    return list(value.items())


@dataclass(frozen=True)
class HealthWarning:
    """Something that works but should be fixed (a missing index): health
    stays ok. `fix` is what to run or change, when there is one."""

    message: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {"message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class HealthReport:
    """A health check's answer: a short status line, and warnings that do not
    make the store unhealthy (a failing store raises ConnectorError instead)."""

    status: str
    warnings: tuple[HealthWarning, ...] = ()
