"""The contract every connector kind implements.

A kind is a class on `ConnectorKind`, registered in `connectors.registry`.
The executor (dsr.services.execution) calls `run(job, sink)` and nothing
else; a synchronous kind gets `run` for free and implements the per-action
methods, an asynchronous kind (webhook, pull agent, human) returns
`Deferred` and its result is reported later.

Rules for every kind:
- Idempotent: running an action twice has the effect of running it once, and
  reports the same totals (erase reports what it found and what is gone).
- Streaming: access yields records; nothing loads a subject's history at once.
- Errors: raise ConnectorError(message, permanent=...); `permanent=True` when
  a retry cannot help (bad config, table missing, auth refused). Messages
  name tables, columns and counts, never a subject's data.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from connectors.choices import Action
from privacydesk.errors import ValidationFailed

# The subject's identifiers are a foundation type (subjects builds them,
# connectors use them; neither imports the other): re-exported here as part
# of the contract.
from privacydesk.identity import Identity as Identity


class ConnectorError(Exception):
    """A connector call failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class ConfigError(ValidationFailed):
    """A connector's config is invalid; `field` is the path, e.g.
    `config.tables[2].identity`."""


@dataclass(frozen=True)
class AccessRecord:
    """One record found for the subject."""

    location: str  # table, file or object name
    key: str  # primary key or line reference within the location
    data: Mapping[str, Any]
    category: str = ""  # e.g. "contact", "support_ticket", "ai_conversation"


@dataclass(frozen=True)
class Exemption:
    """Data deliberately kept, with its legal basis (e.g. GDPR 17(3)(b))."""

    location: str
    fields: tuple[str, ...]
    basis: str
    reason: str
    count: int = 0


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


@dataclass(frozen=True)
class Deferred:
    """The job was handed over; its result will be reported later."""

    reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class Job:
    """One unit of work for one connector, as the executor hands it over."""

    task_id: str  # RequestTask.public_id
    request_reference: str
    action: str  # connectors.choices.Action
    identity: Identity
    changes: Mapping[str, str] = field(default_factory=dict)  # rectification
    restricted: bool = True  # restriction on (True) or lifted (False)


class RecordSink(Protocol):
    """Where access records go (a JSONL file streamed to storage)."""

    def write(self, record: AccessRecord) -> None: ...


class ConnectorKind(ABC):
    """Base class of every connector kind."""

    kind: ClassVar[str]
    label: ClassVar[str]
    actions: ClassVar[frozenset[str]] = frozenset()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Whether verify_erased answers here and now (it asks the store itself):
    # the executor then checks a store right after erasing in it, in the same
    # run, instead of queueing a separate verification task.
    verifies_in_process: ClassVar[bool] = False

    def __init__(
        self, *, name: str, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> None:
        self.name = name
        self.config = config
        self.secrets = secrets

    # -- configuration ------------------------------------------------------
    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        """Return the cleaned config or raise ConfigError naming the path."""
        if not isinstance(config, dict):
            raise ConfigError("must be an object", field="config")
        return config

    @classmethod
    def validate_secrets(cls, secrets: Any) -> dict[str, str]:
        if secrets in (None, ""):
            return {}
        if not isinstance(secrets, dict):
            raise ConfigError("must be an object", field="secrets")
        unknown = set(secrets) - set(cls.secret_fields)
        if unknown:
            raise ConfigError(
                f"unknown secret(s) {', '.join(sorted(unknown))}; "
                f"this kind takes {', '.join(cls.secret_fields) or 'none'}",
                field=f"secrets.{sorted(unknown)[0]}",
            )
        return {key: str(value) for key, value in secrets.items()}

    # -- the one entry point of the executor ------------------------------
    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        if job.action not in self.actions:
            raise ConnectorError(
                f"{self.kind} connector {self.name} does not support {job.action}",
                permanent=True,
            )
        if job.action == Action.ACCESS:
            outcome = Outcome()
            for record in self.access(job.identity):
                sink.write(record)
                outcome.add(record.location, found=1)
            return outcome
        if job.action == Action.RECTIFY:
            return self.rectify(job.identity, job.changes)
        if job.action == Action.ERASE:
            return self.erase(job.identity)
        if job.action == Action.VERIFY_ERASURE:
            return self.verify_erased(job.identity)
        if job.action == Action.RESTRICT:
            return self.restrict(job.identity, restricted=job.restricted)
        if job.action == Action.OBJECT:
            return self.object(job.identity)
        raise ConnectorError(f"unknown action {job.action}", permanent=True)

    # -- per-action methods of synchronous kinds ---------------------------
    def health(self) -> str:
        """A short status line; raise ConnectorError when unhealthy."""
        return "ok"

    def discover(self, identity: Identity) -> dict[str, int]:
        """Locations holding the subject's data, with counts."""
        counts: dict[str, int] = {}
        for record in self.access(identity):
            counts[record.location] = counts.get(record.location, 0) + 1
        return counts

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        raise ConnectorError(f"{self.kind} does not support access", permanent=True)

    def rectify(self, identity: Identity, changes: Mapping[str, str]) -> Outcome:
        raise ConnectorError(f"{self.kind} does not support rectify", permanent=True)

    def erase(self, identity: Identity) -> Outcome:
        raise ConnectorError(f"{self.kind} does not support erase", permanent=True)

    def verify_erased(self, identity: Identity) -> Outcome:
        """Ask again after erasure: `found` counts what is left outside exemptions."""
        raise ConnectorError(f"{self.kind} does not support verify", permanent=True)

    def restrict(self, identity: Identity, *, restricted: bool) -> Outcome:
        raise ConnectorError(f"{self.kind} does not support restrict", permanent=True)

    def object(self, identity: Identity) -> Outcome:
        raise ConnectorError(f"{self.kind} does not support object", permanent=True)
