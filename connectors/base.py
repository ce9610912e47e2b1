"""The contract every connector kind implements, and all the domain may call.

A kind is a class on `ConnectorKind`, registered in `connectors.registry`.
The domain (dsr, consent, retention) reaches a store only through it and
never branches on a kind nor imports `connectors.kinds.*`:

- requests: `run(job, sink)` performs one action (access streamed into the
  sink, rectify, erase, verify_erasure, restrict, object). A synchronous
  kind gets `run` for free and implements the per-action methods; a kind
  that hands work over (webhook, pull agent, human) returns `Deferred` and
  its result is reported later.
- erasure returns an `ErasureReceipt`: what it did and what it knew of the
  subject. `verify_erased(identity, receipt)` needs nothing else: a fresh
  instance, in another process, given the receipt checks as much as the one
  that erased. A receipt holds personal data: store it only encrypted.
- retention: `purge(spec, held)` gives a `StorePurge` (connectors.purges);
  `locations()` names what a policy or a hold may point at, `name_clean`
  checks a location or field name the way the kind's stores spell them.
- consent: `withdraw_consent(job)` applies a withdrawal (an Outcome) or
  hands it over (Deferred); `withdrawal_action_clean` checks what a purpose
  link asks the store to do.
- links: `conversation_ids(identity)` lists the subject's conversations for
  another store that links to this one (`lists_conversations`);
  `reads_from(config)` names the stores a kind reads while it works, which
  the executor erases in only after it.
- verification: `match_data_points(identity, points)` says, per data point
  the requester gave (connectors.data_points), whether this store holds it
  for the subject (`matches_data_points`); a kind that cannot tell leaves
  it out, never a value.
- `health()` gives a `HealthReport`: a status line and warnings that leave
  the store healthy (an sql store's missing index, with the CREATE INDEX to
  run); an unhealthy store raises ConnectorError. For the agents' lease kit,
  `job_lease()`.

Class-level metadata, read without an instance (the API, the dashboard,
planning): `actions` (on the class: every action the kind can take; on an
instance: those this configured store offers), `secret_fields`,
`config_schema()` (JSON Schema of the config), `verifies_in_process`,
`purges`, `withdraws_consent`, `done_by_people`.

Rules for every kind:
- Idempotent: running an action twice has the effect of running it once, and
  reports the same totals (erase reports what it found and what is gone).
- Streaming: access yields records; nothing loads a subject's history at once.
- Errors: raise ConnectorError(message, permanent=...); `permanent=True` when
  a retry cannot help (bad config, table missing, auth refused); `Unsupported`
  when the kind cannot do it at all. Messages name tables, columns and
  counts, never a subject's data.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from connectors.choices import Action
from connectors.errors import ConfigError, ConnectorError, Unsupported
from connectors.purges import (
    BatchResult,
    HeldScope,
    Location,
    PurgeSpec,
    StorePurge,
    TableCounts,
)
from connectors.values import (
    AccessRecord,
    Deferred,
    ErasureReceipt,
    Exemption,
    HealthReport,
    HealthWarning,
    Identity,
    Outcome,
)
from privacydesk.errors import ValidationFailed

__all__ = [
    "AccessRecord",
    "BatchResult",
    "ConfigError",
    "ConnectorError",
    "ConnectorKind",
    "Deferred",
    "ErasureReceipt",
    "Exemption",
    "HealthReport",
    "HealthWarning",
    "HeldScope",
    "Identity",
    "Job",
    "Location",
    "Outcome",
    "PurgeSpec",
    "RecordSink",
    "SecretsKeeper",
    "StorePurge",
    "TableCounts",
    "Unsupported",
    "WithdrawalJob",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Job:
    """One unit of work for one connector, as the executor hands it over."""

    task_id: str  # RequestTask.public_id
    request_reference: str
    action: str  # connectors.choices.Action
    identity: Identity
    changes: Mapping[str, str] = field(default_factory=dict)  # rectification
    restricted: bool = True  # restriction on (True) or lifted (False)
    # verify_erasure: the receipt of the erasure being verified, if any.
    receipt: ErasureReceipt | None = None
    # The request's regime and receipt time, for a store that forwards the
    # request itself (an OpenDSR processor asks for `regulation` and
    # `submitted_time`).
    regime: str = ""
    received_at: datetime | None = None


@dataclass(frozen=True)
class WithdrawalJob:
    """A consent withdrawal for one store that applies it itself."""

    task_id: str  # ConsentPropagation.public_id
    purpose: str  # the purpose's slug
    withdrawn_at: datetime
    identity: Identity
    # What the purpose link asks of the store (see withdrawal_action_clean).
    instructions: Mapping[str, Any] = field(default_factory=dict)


class RecordSink(Protocol):
    """Where access records go (a JSONL file streamed to storage)."""

    def write(self, record: AccessRecord) -> None: ...


# Called with the secrets a store replaced ({"refresh_token": ...}): they
# must be stored before the old ones stop working. Never logs a value.
SecretsKeeper = Callable[[Mapping[str, str]], None]


class ConnectorKind(ABC):
    """Base class of every connector kind."""

    kind: ClassVar[str]
    label: ClassVar[str]
    # On the class: every action the kind can take. On an instance: those
    # this configured store offers (`configured_actions`).
    actions: frozenset[str] = frozenset()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Whether verify_erased answers here and now (it asks the store itself):
    # the executor then checks a store right after erasing in it, in the same
    # run, instead of queueing a separate verification task.
    verifies_in_process: ClassVar[bool] = False
    # Whether `purge` works (retention policies may name such connectors).
    purges: ClassVar[bool] = False
    # Whether `withdraw_consent` works (else a withdrawal is "unsupported").
    withdraws_consent: ClassVar[bool] = False
    # Whether people do every action (a human task on the dashboard): staff
    # may then mark its tasks done and attach the proof.
    done_by_people: ClassVar[bool] = False
    # Whether the store is a processor's own system, reached through its API
    # (a support SaaS, an OpenDSR processor): its erasure or correction task
    # is then the Art. 19 notification of that processor
    # (connectors.disclosure.recipient_notify_method).
    reaches_processor: ClassVar[bool] = False
    # Whether `conversation_ids` works (another store may link to this one).
    lists_conversations: ClassVar[bool] = False
    # Whether `match_data_points` works (CCPA-REG §7062 verification).
    matches_data_points: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str],
        keep_secrets: SecretsKeeper | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.secrets = secrets
        # Stores secrets the store itself replaced (a rotated OAuth2 refresh
        # token) with the connector's row, encrypted; Connector.instance()
        # gives it. None: the new values live only as long as this instance.
        self.keep_secrets = keep_secrets
        self.actions = self.configured_actions()

    # -- metadata and configuration ------------------------------------------
    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """The JSON Schema of this kind's config (for the API and forms);
        `validate_config` stays the authority and names the bad path."""
        return {"$schema": JSON_SCHEMA_DIALECT, "type": "object"}

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

    @classmethod
    def name_clean(cls, value: Any, *, field: str) -> str:
        """A location or field name as this kind's stores spell them (a
        policy's table and columns), or ValidationFailed naming `field`."""
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed("a name is required", field=field)
        name = value.strip()
        if len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise ValidationFailed(
                f"at most {MAX_NAME_LENGTH} printable characters", field=field
            )
        return name

    @classmethod
    def withdrawal_action_clean(
        cls, action: Any, *, config: Mapping[str, Any], field: str = "action"
    ) -> dict[str, Any]:
        """What a purpose link asks of this kind's store when consent is
        withdrawn, checked against the connector's `config`; ValidationFailed
        names the path. Kinds that send it on take any object."""
        if not isinstance(action, Mapping):
            raise ValidationFailed("must be an object", field=field)
        return dict(action)

    @classmethod
    def instructions_for_people(cls, config: Mapping[str, Any]) -> str:
        """What a person must do for a task of this store, from its config,
        for a kind `done_by_people`; "" when the kind says nothing."""
        return ""

    # -- what the evidence pack says of a store (from a config, no call) -----
    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        """In words, what erasure does at `location` under `config` (never a
        value), for the evidence pack; "" when the kind does not say."""
        return ""

    @classmethod
    def rectification_targets(
        cls, config: Mapping[str, Any], fields: Collection[str]
    ) -> dict[str, list[str]] | None:
        """Per location, which of `fields` rectification writes under
        `config`; None when the kind does not say."""
        return None

    # -- links between stores (from a config, no call) -----------------------
    @classmethod
    def reads_from(cls, config: Mapping[str, Any]) -> tuple[str, ...]:
        """The names of the connectors this store reads under `config` while
        it works (a vector store matching the conversation ids a helpdesk
        lists): the executor erases in those only after this store's task of
        the same request has ended, so what it reads is still there."""
        return ()

    def configured_actions(self) -> frozenset[str]:
        """The actions this configured store offers (planning asks every
        connector, so a kind reading its config here must not raise)."""
        return type(self).actions

    # -- the one entry point of the executor ------------------------------
    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        if job.action not in self.actions:
            raise Unsupported(
                f"{self.kind} connector {self.name} does not support {job.action}"
            )
        if job.action == Action.ACCESS:
            found: dict[str, int] = {}  # per location, in the order first found
            write = sink.write
            for record in self.access(job.identity):
                write(record)
                found[record.location] = found.get(record.location, 0) + 1
            outcome = Outcome()
            for location, count in found.items():
                outcome.add(location, found=count)
            return outcome
        if job.action == Action.RECTIFY:
            return self.rectify(job.identity, job.changes)
        if job.action == Action.ERASE:
            return self.erase(job.identity)
        if job.action == Action.VERIFY_ERASURE:
            return self.verify_erased(job.identity, job.receipt)
        if job.action == Action.RESTRICT:
            return self.restrict(job.identity, restricted=job.restricted)
        if job.action == Action.OBJECT:
            return self.object(job.identity)
        raise Unsupported(f"unknown action {job.action}")

    # -- per-action methods of synchronous kinds ---------------------------
    def health(self) -> HealthReport:
        """A short status line and warnings that leave the store healthy
        (it works, but slowly); raise ConnectorError when unhealthy."""
        return HealthReport("ok")

    def discover(self, identity: Identity) -> dict[str, int]:
        """Locations holding the subject's data, with counts."""
        counts: dict[str, int] = {}
        for record in self.access(identity):
            counts[record.location] = counts.get(record.location, 0) + 1
        return counts

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        raise Unsupported(f"{self.kind} does not support access")

    def rectify(self, identity: Identity, changes: Mapping[str, str]) -> Outcome:
        raise Unsupported(f"{self.kind} does not support rectify")

    def erase(self, identity: Identity) -> ErasureReceipt:
        """Erase the subject; the receipt is what `verify_erased` needs."""
        raise Unsupported(f"{self.kind} does not support erase")

    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        """Ask again after erasure: `found` counts what is left outside
        exemptions. With the erasure's `receipt`, also look for what the
        erasure knew of the subject; uses no state of this instance."""
        raise Unsupported(f"{self.kind} does not support verify")

    def conversation_ids(self, identity: Identity) -> list[str]:
        """The ids of the subject's conversations in this store (tickets,
        chats), for another store that links to it (`reads_from`); a kind
        that can answer sets `lists_conversations`."""
        raise Unsupported(f"{self.kind} cannot list a subject's conversations")

    def match_data_points(
        self, identity: Identity, points: Mapping[str, str]
    ) -> dict[str, bool]:
        """Per data point kind given (connectors.data_points.KINDS -> the
        requester's value), whether the subject's records here hold that
        value: True matched, False this store keeps that kind for her and it
        differs; a kind the store does not keep is left out. Only the
        subject found by `identity` is searched; no value leaves the store."""
        raise Unsupported(f"{self.kind} cannot match data points")

    def restrict(self, identity: Identity, *, restricted: bool) -> Outcome:
        raise Unsupported(f"{self.kind} does not support restrict")

    def object(self, identity: Identity) -> Outcome:
        raise Unsupported(f"{self.kind} does not support object")

    # -- retention ---------------------------------------------------------------
    def locations(self) -> tuple[Location, ...] | None:
        """What a policy or a hold may name in this store; None when the
        kind has no named locations (a hold's name is then the staff's own).
        Raise ConnectorError when the config cannot tell."""
        return None

    def purge(self, spec: PurgeSpec, held: HeldScope) -> StorePurge:
        """The purge of `spec` in this store, leaving `held` alone."""
        raise Unsupported(f"{self.label} connectors cannot purge by age")

    # -- consent -------------------------------------------------------------------
    def withdraw_consent(self, job: WithdrawalJob) -> Outcome | Deferred:
        """Apply a withdrawal for one subject (`changed` rows), or hand it
        over (Deferred: a webhook's 202, a pull agent)."""
        raise Unsupported(
            f"propagating withdrawals to {self.kind} connectors is not supported "
            "yet; apply it in that system by hand"
        )

    # -- agents ----------------------------------------------------------------------
    def job_lease(self) -> timedelta | None:
        """How long an agent's claim on this store's jobs lasts; None for a
        kind whose jobs no agent claims (the lease kit's default applies)."""
        return None
