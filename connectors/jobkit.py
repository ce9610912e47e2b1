"""Jobs worked outside Privacy Desk, one way for every kind of job.

A job handed to another system is a row (a request task, a consent
withdrawal) that waits, status "waiting", until its result comes back by
one of two doors:

- A pull agent behind a firewall, holding a token bound to one connector,
  lists the waiting jobs nobody holds, claims one, heartbeats while it works
  and posts the result. A job is *free* when nobody holds its lease or the
  lease ran out (free at once, before the sweeper tidies up). A claim is a
  compare-and-swap on a free lease, so of two agents exactly one wins; a
  heartbeat extends only the holder's lease; only the holder may post the
  result. An agent finds only its own connector's jobs: another connector's
  job is "not found", never "forbidden".
- A webhook that answered 202 calls back with the result, signed with its
  connector's key. A job that no longer takes a result refuses it (409),
  which also stops a replay within the signature's window.

`LeasedJobs` is that protocol, written once. A kind of job subclasses it and
says only what differs: its rows, the document an agent is given, and what
a result does (dsr.services.agent_jobs for request tasks, consent.services.jobs for
consent withdrawals). Every result is parsed by connectors.wire's one
parser, whoever sends it.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor, actor_for_client
from accounts.choices import Scope
from accounts.models import ApiClient
from connectors.choices import ConnectorKindChoice
from connectors.models import Connector
from connectors.signing import signature_verify
from connectors.wire import ReportedResult, result_parse
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed
from privacydesk.retry import backoff_seconds

AGENT_LIST_LIMIT = 100
DEFAULT_LEASE = timedelta(seconds=300)

# Both kinds spell these statuses alike (dsr.choices.TaskStatus,
# consent.choices.PropagationStatus; tests/connectors/test_jobkit.py holds
# them to it) and share privacydesk.retry.AttemptOutcome.
PENDING, RUNNING, WAITING = "pending", "running", "waiting"
SUCCEEDED, RETRY, FAILED = "succeeded", "retry", "failed"

NOT_HOLDER = "this token does not hold the job's lease"

J = TypeVar("J", bound=models.Model)


class JobRow(Protocol):
    """The fields the kit reads on a job row, as every kind's model declares them."""

    @property
    def public_id(self) -> uuid.UUID: ...
    @property
    def connector(self) -> Connector: ...
    @property
    def status(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def lease_owner(self) -> str: ...
    @property
    def lease_expires_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


def _row(job: models.Model) -> JobRow:
    # A job is a Model and a JobRow; mypy has no intersection type to say both
    # (tests/connectors/test_jobkit.py runs the kit on every kind's rows).
    return cast(JobRow, job)


@dataclass(frozen=True)
class AgentJob:
    """A job as its agent sees it: the job document and its lease."""

    document: dict[str, Any]
    created_at: datetime
    lease_expires_at: datetime | None


def agent_connector_id(*, client: ApiClient) -> int:
    """The one connector an agent token works for; NotPermitted otherwise."""
    if client.connector_id is None or Scope.CONNECTORS_AGENT not in client.scopes:
        raise NotPermitted("this token is not an agent token bound to a connector")
    return client.connector_id


def agent_lease(*, connector: Connector) -> timedelta:
    """How long a claim on one of this connector's jobs lasts."""
    return connector.instance().job_lease() or DEFAULT_LEASE


def _free(now: datetime) -> Q:
    # An expired lease is free even before the sweeper clears it.
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


class LeasedJobs(ABC, Generic[J]):
    """Agents' leases and webhooks' callbacks for one kind of job row.

    The row has `public_id`, `connector`, `status`, `attempts`,
    `max_attempts`, `lease_owner`, `lease_expires_at`, `last_error`,
    `next_attempt_at`, `enqueued_at` and `created_at`, and a row per attempt.
    """

    model: type[J]
    # What a job's document and its result read, fetched with the job.
    related: ClassVar[tuple[str, ...]]
    # How a 409 names a job: "this task is succeeded; it takes no result".
    noun: ClassVar[str]
    # Further conditions on a job an agent is offered.
    listed: ClassVar[Q] = Q()
    # Fields reset when a webhook's job goes back to the queue.
    requeue_resets: ClassVar[dict[str, Any]] = {}

    # --- what a kind says ---------------------------------------------------------

    def rows(self) -> QuerySet[J]:
        """Every job of this kind that agents and webhooks report on."""
        return self.model._default_manager.all()

    def check_claim(self, job: J) -> None:
        """Refuse (IllegalTransition) a claim the kind does not allow."""

    @abstractmethod
    def document(self, job: J) -> dict[str, Any]:
        """The job document (with the decrypted identity)."""

    @abstractmethod
    def action(self, job: J) -> str:
        """The action a result answers, as connectors.wire.result_parse reads it."""

    @abstractmethod
    def attempt_rows(self, job: J) -> Any:
        """The related manager of the job's attempt rows."""

    @abstractmethod
    def audit(self, actor: Actor, job: J, event: str, /, **data: Any) -> None:
        """Audit `event` ("claimed", "retry_requested") on the job."""
        # Positional-only: a kind names the job its own way (task, propagation).

    @abstractmethod
    def succeed(self, job: J, result: ReportedResult, actor: Actor) -> J:
        """Record a "done" result on the locked job."""

    @abstractmethod
    def fail(self, job: J, error: str, actor: Actor) -> J:
        """Record a final failure on the locked job."""

    @abstractmethod
    def send_again(self, job: J, *, countdown: float) -> None:
        """Send a webhook's job to a worker again, after the caller commits."""

    # --- pull agents --------------------------------------------------------------

    def agent_list(self, *, client: ApiClient, limit: int = 20) -> list[AgentJob]:
        """Waiting jobs of the agent's connector that nobody holds, oldest first."""
        jobs = (
            self._of_agent(client)
            .filter(_free(timezone.now()), self.listed, status=WAITING)
            .order_by("created_at", "pk")[: max(1, min(limit, AGENT_LIST_LIMIT))]
        )
        return [self._agent_job(job) for job in jobs]

    def agent_claim(self, *, client: ApiClient, public_id: str) -> AgentJob:
        """Take a job's lease. A compare-and-swap on the free lease: of two agents
        claiming at once exactly one wins, the other gets IllegalTransition."""
        job = self._agent_get(client, public_id)
        self.check_claim(job)
        if _row(job).status != WAITING:
            raise IllegalTransition(f"this job is {_row(job).status}, not waiting")
        now = timezone.now()
        with transaction.atomic():
            claimed = (
                self.model._default_manager.filter(pk=job.pk, status=WAITING)
                .filter(_free(now))
                .update(
                    lease_owner=str(client.public_id),
                    lease_expires_at=now + agent_lease(connector=_row(job).connector),
                    attempts=F("attempts") + 1,
                )
            )
            if claimed != 1:
                raise IllegalTransition("another agent holds this job")
            job.refresh_from_db()
            # An earlier holder whose lease ran out left its attempt open.
            self._close_attempt(job, RETRY, "lease expired")
            self.attempt_rows(job).create(
                number=_row(job).attempts,
                started_at=now,
                worker=f"agent {client.name}"[:200],
            )
            self.audit(
                actor_for_client(client),
                job,
                "claimed",
                lease_expires_at=_row(job).lease_expires_at,
            )
        return self._agent_job(job)

    def agent_heartbeat(self, *, client: ApiClient, public_id: str) -> J:
        """The holder is still at work: extend its lease from now."""
        job = self._agent_get(client, public_id)
        extended = self.model._default_manager.filter(
            pk=job.pk, status=WAITING, lease_owner=str(client.public_id)
        ).update(
            lease_expires_at=timezone.now() + agent_lease(connector=_row(job).connector)
        )
        if extended != 1:
            raise IllegalTransition(NOT_HOLDER)
        job.refresh_from_db()
        return job

    def agent_report(self, *, client: ApiClient, public_id: str, data: Any) -> J:
        """The holder posts the job's result: done, or failed (back in the queue
        while a retryable failure has attempts left)."""
        job = self._agent_get(client, public_id)
        owner = str(client.public_id)
        if _row(job).status != WAITING or _row(job).lease_owner != owner:
            raise IllegalTransition(NOT_HOLDER)
        result = result_parse(
            data, action=self.action(job), task_id=str(_row(job).public_id)
        )
        with transaction.atomic():
            job = self._lock(job)
            if _row(job).status != WAITING or _row(job).lease_owner != owner:
                raise IllegalTransition(NOT_HOLDER)
            return self._record(job, result, actor_for_client(client))

    def _of_agent(self, client: ApiClient) -> QuerySet[J]:
        """Every job this agent may ever touch: its connector's, nothing else."""
        return (
            self.rows()
            .filter(
                connector_id=agent_connector_id(client=client),
                connector__kind=ConnectorKindChoice.PULL,
            )
            .select_related(*self.related)
        )

    def _agent_get(self, client: ApiClient, public_id: str) -> J:
        return self._of_agent(client).get(public_id=self._key(public_id))

    def _agent_job(self, job: J) -> AgentJob:
        return AgentJob(
            document=self.document(job),
            created_at=_row(job).created_at,
            lease_expires_at=_row(job).lease_expires_at,
        )

    # --- webhook callbacks --------------------------------------------------------

    def callback_record(
        self,
        *,
        public_id: str,
        timestamp: str | None,
        signature: str | None,
        body: bytes,
    ) -> J:
        """A webhook reports a result it deferred, signed with the connector's key.

        Refused (SignatureRejected, 401) when unsigned, forged, or signed more
        than five minutes from now; a job that no longer takes a result is an
        IllegalTransition (409), which also stops a replay within the window.
        A job still "running" is accepted: a fast webhook may call back before
        our request to it has returned.
        """
        job = (
            self.rows()
            .select_related(*self.related)
            .get(
                public_id=self._key(public_id), connector__kind=ConnectorKindChoice.HTTP
            )
        )
        connector = _row(job).connector
        signature_verify(
            key=(connector.secrets or {}).get("signing_key", ""),
            timestamp=timestamp,
            signature=signature,
            body=body,
        )
        try:
            data = json.loads(body)
        except ValueError:
            raise ValidationFailed("the body must be a JSON object") from None
        result = result_parse(
            data,
            action=self.action(job),
            task_id=str(_row(job).public_id),
            require_task_id=True,
        )
        actor = Actor(
            kind="api",
            ref=f"connector:{connector.public_id}",
            label=f"webhook of {connector.name}",
        )
        with transaction.atomic():
            job = self._lock(job)
            if _row(job).status not in (WAITING, RUNNING):
                raise IllegalTransition(
                    f"this {self.noun} is {_row(job).status}; it takes no result"
                )
            return self._record(job, result, actor)

    # --- recording a result -------------------------------------------------------

    def _key(self, public_id: str) -> uuid.UUID:
        try:
            return uuid.UUID(str(public_id))
        except ValueError:
            # The plugin gives DoesNotExist to concrete models only, not to the bound.
            raise self.model.DoesNotExist from None  # type: ignore[attr-defined]  # J is concrete

    def _lock(self, job: J) -> J:
        return (
            self.model._default_manager.select_for_update(of=("self",))
            .select_related(*self.related)
            .get(pk=job.pk)
        )

    def _close_attempt(self, job: J, outcome: str, error: str = "") -> None:
        """Close the attempt an agent's claim opened with how it ended."""
        self.attempt_rows(job).filter(finished_at__isnull=True).update(
            finished_at=timezone.now(), outcome=outcome, error=error[:2000]
        )

    def _record(self, job: J, result: ReportedResult, actor: Actor) -> J:
        """Record a parsed result on a job locked in the caller's transaction,
        once the caller has checked who may report it. Done succeeds; a
        retryable failure with attempts left goes round again; any other
        failure fails for good."""
        by_agent = _row(job).connector.kind == ConnectorKindChoice.PULL
        if result.done:
            if by_agent:
                self._close_attempt(job, SUCCEEDED)
            return self.succeed(job, result, actor)
        if result.retryable and _row(job).attempts < _row(job).max_attempts:
            return self._requeue(job, result.error, actor, by_agent=by_agent)
        if by_agent:
            self._close_attempt(job, FAILED, result.error)
        return self.fail(job, result.error, actor)

    def _requeue(self, job: J, error: str, actor: Actor, *, by_agent: bool) -> J:
        """A retryable failure: an agent's job goes back to the queue; a
        webhook's job is sent again after a back-off."""
        jobs = self.model._default_manager
        if by_agent:
            moved = jobs.filter(pk=job.pk, status=WAITING).update(
                lease_owner="", lease_expires_at=None, last_error=error[:2000]
            )
            self._close_attempt(job, RETRY, error)
        else:
            delay = backoff_seconds(_row(job).attempts)
            now = timezone.now()
            moved = jobs.filter(pk=job.pk, status__in=[WAITING, RUNNING]).update(
                status=PENDING,
                last_error=error[:2000],
                next_attempt_at=now + timedelta(seconds=delay),
                enqueued_at=now,
                **self.requeue_resets,
            )
            if moved:
                self.send_again(job, countdown=delay)
        if not moved:
            raise IllegalTransition(f"this {self.noun} is not waiting for a result")
        self.audit(actor, job, "retry_requested", attempts=_row(job).attempts)
        job.refresh_from_db()
        return job
