"""Pushing withdrawals to the connectors that honour a purpose.

The same rules as request tasks: one row per (event, connector), one Celery
job per row enqueued after commit, compare-and-swap on status so a message
delivered twice runs once, a row per attempt, bounded attempts with
exponential back-off and jitter, and a sweeper for work a dead worker or a
lost message left behind. Kinds that cannot apply a withdrawal by themselves
end as "unsupported", never as done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import Identity
from consent.choices import AttemptOutcome, PropagationStatus
from consent.models import (
    ConsentEvent,
    ConsentPropagation,
    PropagationAttempt,
    Purpose,
    PurposeConnector,
)
from consent.propagation import (
    PropagationError,
    PropagationUnsupported,
    apply_withdrawal,
)
from dsr.models import SubjectIdentifier
from privacydesk.errors import IllegalTransition
from privacydesk.retry import attempt_close, backoff_seconds

logger = logging.getLogger(__name__)
SYSTEM = actor_system("consent-propagation")
P = PropagationStatus


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
        _enqueue_after_commit(planned)
    return planned


def _enqueue_after_commit(
    propagations: Iterable[ConsentPropagation], *, countdown: float = 0
) -> None:
    ids = [p.pk for p in propagations]
    if not ids:
        return
    ConsentPropagation.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())

    def send() -> None:
        from consent.tasks import propagate_consent_task

        for propagation_id in ids:
            propagate_consent_task.apply_async(
                args=[propagation_id], countdown=countdown
            )

    transaction.on_commit(send)


def _identity(subject_id: int) -> Identity:
    """The subject's identifiers, decrypted in memory for this one call."""
    emails: list[str] = []
    phones: list[str] = []
    customer_ids: dict[str, list[str]] = {}
    for identifier in SubjectIdentifier.objects.filter(subject_id=subject_id):
        if identifier.kind == "email":
            emails.append(identifier.value)
        elif identifier.kind == "phone":
            phones.append(identifier.value)
        else:
            customer_ids.setdefault(identifier.namespace, []).append(identifier.value)
    return Identity(
        emails=tuple(emails),
        phones=tuple(phones),
        customer_ids={k: tuple(v) for k, v in customer_ids.items()},
    )


def propagation_run(*, propagation_id: int) -> str:
    """Run one propagation once; returns what happened (for logs and tests)."""
    now = timezone.now()
    claimed = ConsentPropagation.objects.filter(
        pk=propagation_id, status=P.PENDING
    ).update(
        status=P.RUNNING,
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
        propagation=propagation, number=propagation.attempts, started_at=now
    )
    started = time.monotonic()
    connector = propagation.connector
    try:
        if not connector.enabled:
            raise PropagationError(
                f"connector {connector.name} is disabled", permanent=True
            )
        changed = apply_withdrawal(
            kind=connector.kind,
            config=connector.config,
            secrets=connector.secrets or {},
            action=propagation.action,
            identity=_identity(propagation.event.subject_id),
        )
    except PropagationUnsupported as error:
        attempt_close(attempt, started, AttemptOutcome.UNSUPPORTED, str(error))
        _finish(propagation, P.UNSUPPORTED, error=str(error))
        return "unsupported"
    except PropagationError as error:
        return _record_failure(propagation, attempt, started, error)
    except Exception as error:  # unknown: retry, and record only its type
        logger.exception("propagation %s failed unexpectedly", propagation.pk)
        return _record_failure(
            propagation, attempt, started, PropagationError(type(error).__name__)
        )
    attempt_close(attempt, started, AttemptOutcome.SUCCEEDED)
    _finish(propagation, P.SUCCEEDED, changed=changed)
    return "succeeded"


def _record_failure(
    propagation: ConsentPropagation,
    attempt: PropagationAttempt,
    started: float,
    error: PropagationError,
) -> str:
    final = error.permanent or propagation.attempts >= propagation.max_attempts
    attempt_close(
        attempt,
        started,
        AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        error.message,
    )
    if final:
        _finish(propagation, P.FAILED, error=error.message)
        return "failed"
    delay = backoff_seconds(propagation.attempts)
    with transaction.atomic():
        moved = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=P.RUNNING
        ).update(
            status=P.PENDING,
            last_error=error.message[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        if moved:
            _enqueue_after_commit([propagation], countdown=delay)
    return "retry"


def _finish(
    propagation: ConsentPropagation, status: str, *, error: str = "", changed: int = 0
) -> None:
    with transaction.atomic():
        done = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=P.RUNNING
        ).update(
            status=status,
            finished_at=timezone.now(),
            last_error=error[:2000],
            records_changed=changed,
        )
        if done:
            audit_record(
                actor=SYSTEM,
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


def propagation_retry(
    *, actor: Actor, propagation: ConsentPropagation
) -> ConsentPropagation:
    """Staff send a failed propagation again (after fixing the store)."""
    actor.require(Perm.CONSENT_MANAGE)
    with transaction.atomic():
        changed = ConsentPropagation.objects.filter(
            pk=propagation.pk, status=P.FAILED
        ).update(
            status=P.PENDING,
            max_attempts=F("attempts") + settings.TASK_MAX_ATTEMPTS,
            finished_at=None,
        )
        if changed != 1:
            raise IllegalTransition("only a failed propagation can be retried")
        audit_record(
            actor=actor,
            action="consent.propagation_retried",
            obj=propagation.event,
            data={"propagation": str(propagation.public_id)},
        )
        _enqueue_after_commit([propagation])
    propagation.refresh_from_db()
    return propagation


def propagations_sweep() -> dict[str, int]:
    """Re-enqueue what a dead worker or a lost broker message left behind."""
    now = timezone.now()
    stale_running = now - timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)
    lost_pending = now - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    with transaction.atomic():
        revived = list(
            ConsentPropagation.objects.select_for_update(skip_locked=True).filter(
                status=P.RUNNING, started_at__lt=stale_running
            )
        )
        for propagation in revived:
            ConsentPropagation.objects.filter(
                pk=propagation.pk, status=P.RUNNING
            ).update(status=P.PENDING, last_error="worker lost; re-queued")
        lost = list(
            ConsentPropagation.objects.select_for_update(skip_locked=True).filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=lost_pending),
                status=P.PENDING,
                enqueued_at__lt=lost_pending,
            )
        )
        _enqueue_after_commit(revived + lost)
    if revived or lost:
        logger.info(
            "consent sweeper: %d revived, %d re-enqueued", len(revived), len(lost)
        )
    return {"revived": len(revived), "requeued": len(lost)}
