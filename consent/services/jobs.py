"""Withdrawals worked outside: webhook callbacks and pull agents.

The consent side of connectors.jobs, on the same terms: a pull agent's token
(bound to one connector) lists its connector's waiting withdrawals, claims
one with a lease, heartbeats and reports the result; a webhook that answered
202 reports by a callback signed with its connector's key. Another
connector's job is "not found", never "forbidden". Results are parsed by
connectors.wire's one parser and recorded by `propagation_result_record`,
whoever reports them. Reads (`propagation_agent_list`) live here beside the
writes, as in connectors.jobs, because they share the agent's scoping.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor, actor_for_client
from accounts.models import ApiClient
from audit.services import audit_record
from connectors.choices import ConnectorKindChoice
from connectors.jobs import agent_connector_id, agent_lease
from connectors.signing import signature_verify
from connectors.wire import (
    CONSENT_WITHDRAWN,
    ReportedResult,
    result_parse,
    withdrawal_payload,
)
from consent.choices import AttemptOutcome, PropagationStatus
from consent.models import ConsentPropagation, PropagationAttempt
from consent.services.propagations import (
    attempts_close_open,
    propagation_finish,
    propagation_job,
    propagations_enqueue,
)
from privacydesk.errors import IllegalTransition, ValidationFailed
from privacydesk.retry import backoff_seconds

P = PropagationStatus
AGENT_LIST_LIMIT = 100


@dataclass(frozen=True)
class AgentWithdrawal:
    """A withdrawal as its agent sees it: the job document and its lease."""

    document: dict[str, Any]
    created_at: datetime
    lease_expires_at: datetime | None


# --- reads ----------------------------------------------------------------------


def _agent_propagations(client: ApiClient) -> QuerySet[ConsentPropagation]:
    """Every withdrawal this agent may ever touch: its connector's only."""
    return ConsentPropagation.objects.filter(
        connector_id=agent_connector_id(client=client),
        connector__kind=ConnectorKindChoice.PULL,
    ).select_related("connector", "event", "purpose")


def _agent_propagation(client: ApiClient, public_id: str) -> ConsentPropagation:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise ConsentPropagation.DoesNotExist from None
    return _agent_propagations(client).get(public_id=key)


def _free(now: datetime) -> Q:
    # An expired lease is free even before the sweeper clears it.
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


def propagation_agent_document(*, propagation: ConsentPropagation) -> AgentWithdrawal:
    """The job document (with the decrypted identity) for one withdrawal."""
    return AgentWithdrawal(
        document=withdrawal_payload(propagation_job(propagation=propagation)),
        created_at=propagation.created_at,
        lease_expires_at=propagation.lease_expires_at,
    )


def propagation_agent_list(
    *, client: ApiClient, limit: int = 20
) -> list[AgentWithdrawal]:
    """Waiting withdrawals of the agent's connector nobody holds, oldest first."""
    propagations = (
        _agent_propagations(client)
        .filter(_free(timezone.now()), status=P.WAITING)
        .order_by("created_at", "pk")[: max(1, min(limit, AGENT_LIST_LIMIT))]
    )
    return [propagation_agent_document(propagation=p) for p in propagations]


# --- pull agents ----------------------------------------------------------------


def propagation_agent_claim(*, client: ApiClient, public_id: str) -> AgentWithdrawal:
    """Take a withdrawal's lease. A compare-and-swap on the free lease: of two
    agents claiming at once exactly one wins, the other gets IllegalTransition."""
    propagation = _agent_propagation(client, public_id)
    if propagation.status != P.WAITING:
        raise IllegalTransition(f"this job is {propagation.status}, not waiting")
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            ConsentPropagation.objects.filter(pk=propagation.pk, status=P.WAITING)
            .filter(_free(now))
            .update(
                lease_owner=str(client.public_id),
                lease_expires_at=now + agent_lease(connector=propagation.connector),
                attempts=F("attempts") + 1,
            )
        )
        if claimed != 1:
            raise IllegalTransition("another agent holds this job")
        propagation.refresh_from_db()
        # An earlier holder whose lease ran out left its attempt open.
        attempts_close_open(
            propagation=propagation,
            outcome=AttemptOutcome.RETRY,
            error="lease expired",
        )
        PropagationAttempt.objects.create(
            propagation=propagation,
            number=propagation.attempts,
            started_at=now,
            worker=f"agent {client.name}"[:200],
        )
        audit_record(
            actor=actor_for_client(client),
            action="consent.propagation_claimed",
            obj=propagation.event,
            data={
                "propagation": str(propagation.public_id),
                "connector": propagation.connector.name,
                "lease_expires_at": propagation.lease_expires_at,
            },
        )
    return propagation_agent_document(propagation=propagation)


def propagation_agent_heartbeat(
    *, client: ApiClient, public_id: str
) -> ConsentPropagation:
    """The holder is still at work: extend its lease from now."""
    propagation = _agent_propagation(client, public_id)
    extended = ConsentPropagation.objects.filter(
        pk=propagation.pk, status=P.WAITING, lease_owner=str(client.public_id)
    ).update(
        lease_expires_at=timezone.now() + agent_lease(connector=propagation.connector)
    )
    if extended != 1:
        raise IllegalTransition("this token does not hold the job's lease")
    propagation.refresh_from_db()
    return propagation


def propagation_agent_report(
    *, client: ApiClient, public_id: str, data: Any
) -> ConsentPropagation:
    """The holder reports the withdrawal's result: done, or failed (back to
    the queue if retryable and attempts remain)."""
    propagation = _agent_propagation(client, public_id)
    owner = str(client.public_id)
    if propagation.status != P.WAITING or propagation.lease_owner != owner:
        raise IllegalTransition("this token does not hold the job's lease")
    result = result_parse(
        data, action=CONSENT_WITHDRAWN, task_id=str(propagation.public_id)
    )
    with transaction.atomic():
        propagation = _lock(propagation)
        if propagation.status != P.WAITING or propagation.lease_owner != owner:
            raise IllegalTransition("this token does not hold the job's lease")
        return propagation_result_record(
            propagation=propagation, result=result, actor=actor_for_client(client)
        )


# --- webhook callbacks ------------------------------------------------------------


def propagation_callback_record(
    *, public_id: str, timestamp: str | None, signature: str | None, body: bytes
) -> ConsentPropagation:
    """A webhook reports a withdrawal it accepted with 202, signed with the
    connector's key.

    Refused (SignatureRejected, 401) when unsigned, forged, or signed more
    than five minutes from now; a propagation that already has its result is
    an IllegalTransition (409), which also stops a replay within the window.
    A propagation still "running" is accepted: a fast webhook may call back
    before our request to it has returned.
    """
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise ConsentPropagation.DoesNotExist from None
    propagation = ConsentPropagation.objects.select_related(
        "connector", "event", "purpose"
    ).get(public_id=key, connector__kind=ConnectorKindChoice.HTTP)
    connector = propagation.connector
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
        action=CONSENT_WITHDRAWN,
        task_id=str(propagation.public_id),
        require_task_id=True,
    )
    actor = Actor(
        kind="api",
        ref=f"connector:{connector.public_id}",
        label=f"webhook of {connector.name}",
    )
    with transaction.atomic():
        propagation = _lock(propagation)
        if propagation.status not in (P.WAITING, P.RUNNING):
            raise IllegalTransition(
                f"this propagation is {propagation.status}; it takes no result"
            )
        return propagation_result_record(
            propagation=propagation, result=result, actor=actor
        )


# --- recording a result -----------------------------------------------------------


def _lock(propagation: ConsentPropagation) -> ConsentPropagation:
    return (
        ConsentPropagation.objects.select_for_update(of=("self",))
        .select_related("connector", "event", "purpose")
        .get(pk=propagation.pk)
    )


def propagation_result_record(
    *, propagation: ConsentPropagation, result: ReportedResult, actor: Actor
) -> ConsentPropagation:
    """Record a result that arrived after the call (a webhook's callback, an
    agent's report) on a row locked in the caller's transaction, once the
    caller has checked who may report. Done succeeds; a retryable failure with
    attempts left goes round again; any other failure fails for good."""
    waiting = (P.RUNNING, P.WAITING)
    by_agent = propagation.connector.kind == ConnectorKindChoice.PULL
    if result.done:
        if by_agent:
            attempts_close_open(
                propagation=propagation, outcome=AttemptOutcome.SUCCEEDED
            )
        finished = propagation_finish(
            propagation,
            P.SUCCEEDED,
            changed=result.outcome.changed,
            note=result.outcome.note,
            actor=actor,
            from_statuses=waiting,
        )
    elif result.retryable and propagation.attempts < propagation.max_attempts:
        finished = _again(propagation, result.error, actor, by_agent=by_agent)
    else:
        if by_agent:
            attempts_close_open(
                propagation=propagation,
                outcome=AttemptOutcome.FAILED,
                error=result.error,
            )
        finished = propagation_finish(
            propagation,
            P.FAILED,
            error=result.error,
            actor=actor,
            from_statuses=waiting,
        )
    if not finished:
        raise IllegalTransition("this propagation is not waiting for a result")
    propagation.refresh_from_db()
    return propagation


def _again(
    propagation: ConsentPropagation, error: str, actor: Actor, *, by_agent: bool
) -> bool:
    """A retryable failure: an agent's job goes back to the queue; a webhook's
    job is sent again after a back-off."""
    if by_agent:
        moved = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=P.WAITING
        ).update(lease_owner="", lease_expires_at=None, last_error=error[:2000])
        attempts_close_open(
            propagation=propagation, outcome=AttemptOutcome.RETRY, error=error
        )
    else:
        delay = backoff_seconds(propagation.attempts)
        moved = ConsentPropagation.objects.filter(
            pk=propagation.pk, status__in=[P.RUNNING, P.WAITING]
        ).update(
            status=P.PENDING,
            last_error=error[:2000],
            status_note="",
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        if moved:
            propagations_enqueue([propagation], countdown=delay)
    if moved:
        audit_record(
            actor=actor,
            action="consent.propagation_retry_requested",
            obj=propagation.event,
            data={
                "propagation": str(propagation.public_id),
                "attempts": propagation.attempts,
            },
        )
    return bool(moved)
