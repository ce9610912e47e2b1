"""Pushing withdrawals to the connectors that honour a purpose.

The same rules as request tasks: one row per (event, connector), one Celery
job per row enqueued after commit, compare-and-swap on status so a message
delivered twice runs once, a row per attempt, bounded attempts with
exponential back-off and jitter, and a sweeper for work a dead worker or a
lost message left behind. Kinds that cannot apply a withdrawal by themselves
end as "unsupported", never as done.

A webhook that answers 202 and a pull agent's connector leave the row
"waiting"; its result arrives later by a signed callback or an agent's
report (consent.services.jobs). An agent's lease that runs out gives the
job back to the queue (the sweeper), or fails it once its attempts are
used up.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import (
    ConnectorError,
    Deferred,
    Unsupported,
    WithdrawalJob,
)
from consent.choices import AttemptOutcome, PropagationStatus
from consent.models import (
    ConsentEvent,
    ConsentPropagation,
    PropagationAttempt,
    Purpose,
    PurposeConnector,
)
from privacydesk.errors import IllegalTransition
from privacydesk.retry import (
    attempt_close,
    backoff_seconds,
    lost_attempts_record,
    stale_jobs_take,
)
from subjects.selectors import subjects_identity

logger = logging.getLogger(__name__)
SYSTEM = actor_system("consent-propagation")


def propagations_plan(
    *, event: ConsentEvent, purpose: Purpose
) -> list[ConsentPropagation]:
    """One job per enabled connector linked to the purpose; sent after commit."""
    links = PurposeConnector.objects.filter(
        purpose=purpose, enabled=True, connector__enabled=True
    ).select_related("connector")
    planned = [
        ConsentPropagation.objects.create(
            event=event,
            purpose=purpose,
            connector=link.connector,
            action=link.action,
            max_attempts=settings.TASK_MAX_ATTEMPTS,
        )
        for link in links
    ]
    if planned:
        audit_record(
            actor=SYSTEM,
            action="consent.propagation_planned",
            obj=event,
            data={
                "propagations": [str(p.public_id) for p in planned],
                "connectors": [p.connector.name for p in planned],
                "purpose": purpose.slug,
            },
        )
        propagations_enqueue(planned)
    return planned


def propagations_enqueue(
    propagations: Iterable[ConsentPropagation], *, countdown: float = 0
) -> None:
    """Send each to a worker once the caller's transaction commits."""
    ids = [p.pk for p in propagations]
    if not ids:
        return
    ConsentPropagation.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())

    def send() -> None:
        # Local: consent.tasks imports this module (task <-> service pair).
        from consent.tasks import propagate_consent_task

        for propagation_id in ids:
            propagate_consent_task.apply_async(
                args=(propagation_id,), countdown=countdown
            )

    transaction.on_commit(send)


def propagation_job(*, propagation: ConsentPropagation) -> WithdrawalJob:
    """The job a store is given: ids, the purpose and the decrypted identity."""
    return WithdrawalJob(
        task_id=str(propagation.public_id),
        purpose=propagation.purpose.slug,
        withdrawn_at=propagation.event.occurred_at,
        identity=subjects_identity(subject_ids=[propagation.event.subject_id]),
        instructions=propagation.action or {},
    )


def propagation_run(*, propagation_id: int) -> str:
    """Run one propagation once; returns what happened (for logs and tests)."""
    now = timezone.now()
    claimed = ConsentPropagation.objects.filter(
        pk=propagation_id, status=PropagationStatus.PENDING
    ).update(
        status=PropagationStatus.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
    )
    if claimed != 1:
        return "not-pending"
    propagation = ConsentPropagation.objects.select_related(
        "connector", "event", "purpose"
    ).get(pk=propagation_id)
    attempt = PropagationAttempt.objects.create(
        propagation=propagation,
        number=propagation.attempts,
        started_at=now,
        worker=socket.gethostname()[:200],
    )
    started = time.monotonic()
    connector = propagation.connector
    try:
        if not connector.enabled:
            raise ConnectorError(
                f"connector {connector.name} is disabled", permanent=True
            )
        # The kind applies it, hands it over, or says it cannot (connectors.base).
        result = connector.instance().withdraw_consent(
            propagation_job(propagation=propagation)
        )
    except Unsupported as error:
        attempt_close(attempt, started, AttemptOutcome.UNSUPPORTED, error.message)
        propagation_finish(
            propagation, PropagationStatus.UNSUPPORTED, error=error.message
        )
        return "unsupported"
    except ConnectorError as error:
        return _record_failure(propagation, attempt, started, error)
    except Exception as error:  # unknown: retry, and record only its type
        logger.exception("propagation %s failed unexpectedly", propagation.pk)
        return _record_failure(
            propagation, attempt, started, ConnectorError(type(error).__name__)
        )
    if isinstance(result, Deferred):
        attempt_close(attempt, started, AttemptOutcome.DEFERRED)
        _mark_waiting(propagation, result)
        return "deferred"
    attempt_close(attempt, started, AttemptOutcome.SUCCEEDED)
    propagation_finish(
        propagation,
        PropagationStatus.SUCCEEDED,
        changed=result.changed,
        note=result.note,
    )
    return "succeeded"


def _mark_waiting(propagation: ConsentPropagation, deferred: Deferred) -> None:
    # Only from running: a fast webhook may already have called back.
    ConsentPropagation.objects.filter(
        pk=propagation.pk, status=PropagationStatus.RUNNING
    ).update(
        status=PropagationStatus.WAITING,
        deferred_reference=deferred.reference[:200],
        status_note=deferred.note[:500],
        lease_owner="",
        lease_expires_at=None,
    )


def _record_failure(
    propagation: ConsentPropagation,
    attempt: PropagationAttempt,
    started: float,
    error: ConnectorError,
) -> str:
    final = error.permanent or propagation.attempts >= propagation.max_attempts
    attempt_close(
        attempt,
        started,
        AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        error.message,
    )
    if final:
        propagation_finish(propagation, PropagationStatus.FAILED, error=error.message)
        return "failed"
    delay = backoff_seconds(propagation.attempts)
    with transaction.atomic():
        moved = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=PropagationStatus.RUNNING
        ).update(
            status=PropagationStatus.PENDING,
            last_error=error.message[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        if moved:
            propagations_enqueue([propagation], countdown=delay)
    return "retry"


def propagation_finish(
    propagation: ConsentPropagation,
    status: str,
    *,
    error: str = "",
    changed: int = 0,
    note: str = "",
    actor: Actor = SYSTEM,
    from_statuses: Sequence[str] = (PropagationStatus.RUNNING,),
) -> bool:
    """End a propagation that is still in one of `from_statuses`, audited as
    `actor`; False when another hand got there first (nothing is written)."""
    with transaction.atomic():
        done = ConsentPropagation.objects.filter(
            pk=propagation.pk, status__in=from_statuses
        ).update(
            status=status,
            finished_at=timezone.now(),
            last_error=error[:2000],
            records_changed=changed,
            status_note=note[:500],
            lease_owner="",
            lease_expires_at=None,
        )
        if done:
            audit_record(
                actor=actor,
                action=f"consent.propagation_{status}",
                obj=propagation.event,
                data={
                    "propagation": str(propagation.public_id),
                    "connector": propagation.connector.name,
                    "purpose": propagation.purpose.slug,
                    "changed": changed,
                    "attempts": propagation.attempts,
                },
            )
    return bool(done)


def attempts_close_open(
    *, propagation: ConsentPropagation, outcome: str, error: str = ""
) -> int:
    """Close the attempt an agent left open (its claim) with how it ended."""
    return PropagationAttempt.objects.filter(
        propagation=propagation, finished_at__isnull=True
    ).update(finished_at=timezone.now(), outcome=outcome, error=error[:2000])


def propagation_retry(
    *, actor: Actor, propagation: ConsentPropagation
) -> ConsentPropagation:
    """Staff send a failed propagation again (after fixing the store)."""
    actor.require(Perm.CONSENT_MANAGE)
    with transaction.atomic():
        changed = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=PropagationStatus.FAILED
        ).update(
            status=PropagationStatus.PENDING,
            max_attempts=F("attempts") + settings.TASK_MAX_ATTEMPTS,
            finished_at=None,
            status_note="",
        )
        if changed != 1:
            raise IllegalTransition("only a failed propagation can be retried")
        audit_record(
            actor=actor,
            action="consent.propagation_retried",
            obj=propagation.event,
            data={"propagation": str(propagation.public_id)},
        )
        propagations_enqueue([propagation])
    propagation.refresh_from_db()
    return propagation


def propagations_sweep() -> dict[str, int]:
    """Re-enqueue what a dead worker or a lost broker message left behind, and
    take back the jobs of pull agents whose lease ran out."""
    now = timezone.now()
    with transaction.atomic():
        revived, lost = stale_jobs_take(
            ConsentPropagation.objects.all(),
            running=PropagationStatus.RUNNING,
            pending=PropagationStatus.PENDING,
            now=now,
        )
        lost_attempts_record(
            revived, attempts=PropagationAttempt, job_field="propagation", now=now
        )
        propagations_enqueue(revived + lost)
        expired, failed = _leases_expire(now)
    if revived or lost or expired:
        logger.info(
            "consent sweeper: %d revived, %d re-enqueued, %d leases expired "
            "(%d out of attempts)",
            len(revived),
            len(lost),
            expired,
            failed,
        )
    return {
        "revived": len(revived),
        "requeued": len(lost),
        "leases_expired": expired,
        "leases_failed": failed,
    }


def _leases_expire(now: datetime) -> tuple[int, int]:
    """An agent that stopped heartbeating gives its job back; on its last
    attempt the job fails instead, so a crashing agent cannot loop forever."""
    expired = list(
        ConsentPropagation.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("connector", "event", "purpose")
        .filter(status=PropagationStatus.WAITING, lease_expires_at__lt=now)
    )
    failed = 0
    for propagation in expired:
        if propagation.attempts >= propagation.max_attempts:
            attempts_close_open(
                propagation=propagation,
                outcome=AttemptOutcome.FAILED,
                error="lease expired",
            )
            if propagation_finish(
                propagation,
                PropagationStatus.FAILED,
                error="the agent's lease expired on the last attempt",
                from_statuses=(PropagationStatus.WAITING,),
            ):
                failed += 1
            continue
        attempts_close_open(
            propagation=propagation, outcome=AttemptOutcome.RETRY, error="lease expired"
        )
        ConsentPropagation.objects.filter(
            pk=propagation.pk,
            status=PropagationStatus.WAITING,
            lease_expires_at__lt=now,
        ).update(
            lease_owner="",
            lease_expires_at=None,
            last_error="the agent's lease expired; back in the queue",
        )
    return len(expired), failed
