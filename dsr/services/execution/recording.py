"""What a task's end writes: its outcome under a guarded transition, the
verification made in the erasing run, and their audit events. Every end
asks the finalizer whether the request can close."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from audit.services import audit_record
from connectors.base import ErasureReceipt, Exemption, Outcome
from connectors.choices import Action
from dsr.choices import TaskStatus
from dsr.models import RequestTask, TaskAttempt
from dsr.services.execution.finalising import request_finalize
from dsr.services.execution.planning import SYSTEM
from privacydesk.retry import AttemptOutcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasureCheck:
    """A verification pass made in the erasing run, not yet recorded."""

    outcome: Outcome
    started_at: datetime
    duration_ms: int


def task_finish(
    task: RequestTask, status: str, *, error: str = "", note: str = ""
) -> None:
    with transaction.atomic():
        changed = RequestTask.objects.filter(
            pk=task.pk,
            status__in=[TaskStatus.RUNNING, TaskStatus.PENDING, TaskStatus.WAITING],
        ).update(
            status=status,
            finished_at=timezone.now(),
            last_error=error[:2000],
            status_note=note or F("status_note"),
        )
        if changed:
            audit_record(
                actor=SYSTEM,
                action=f"task.{status}",
                obj=task.request,
                data={
                    "task": str(task.public_id),
                    "connector": task.connector.name,
                    "action": task.action,
                },
            )
            request_finalize(request=task.request)


def task_record_success(
    *,
    task: RequestTask,
    outcome: Outcome,
    actor: Actor,
    check: ErasureCheck | None = None,
) -> bool:
    """task_complete inside the caller's transaction; False if the task was
    not running or waiting (nothing written). `check`: the verification pass
    made in the same run, recorded as the store's verification task."""
    exemptions = [exemption_json(e) for e in outcome.exemptions]
    # An erasure's receipt is stored (encrypted) on its task, for a queued
    # verification pass in another process (erasure_receipt_read).
    receipt = (
        {"erasure_receipt": outcome.to_json()}
        if isinstance(outcome, ErasureReceipt)
        else {}
    )
    changed = RequestTask.objects.filter(
        pk=task.pk, status__in=[TaskStatus.RUNNING, TaskStatus.WAITING]
    ).update(
        **receipt,
        status=TaskStatus.SUCCEEDED,
        finished_at=timezone.now(),
        records_found=outcome.found,
        records_changed=outcome.changed,
        per_location=outcome.per_location,
        exemptions=exemptions,
        result_file=task.result_file,
        result_digest=task.result_digest,
        status_note=outcome.note or F("status_note"),
        last_error="",
        lease_owner="",
        lease_expires_at=None,
    )
    if changed != 1:
        return False
    task_audit_succeeded(task, outcome, actor)
    if check is not None:
        erasure_check_record(task, check)
    request_finalize(request=task.request)
    return True


def erasure_receipt_read(task: RequestTask) -> ErasureReceipt | None:
    """The receipt stored on the erase task that `task` (a verification pass)
    verifies; None when the erasure left none or it cannot be read."""
    stored = (
        RequestTask.objects.filter(
            request_id=task.request_id,
            connector_id=task.connector_id,
            action=Action.ERASE,
        )
        .values_list("erasure_receipt", flat=True)
        .first()
    )
    if stored is None:
        return None
    try:
        return ErasureReceipt.from_json(stored)
    except ValueError:
        logger.warning("task %s: unreadable erasure receipt, not used", task.pk)
        return None


def task_audit_succeeded(task: RequestTask, outcome: Outcome, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action="task.succeeded",
        obj=task.request,
        data={
            "task": str(task.public_id),
            "connector": task.connector.name,
            "action": task.action,
            "found": outcome.found,
            "changed": outcome.changed,
            "digest": task.result_digest,
            "exemptions": len(outcome.exemptions),
        },
    )


def erasure_check_record(erased: RequestTask, check: ErasureCheck) -> None:
    """The store's verification task, done: what the check found remains."""
    finished = check.started_at + timedelta(milliseconds=check.duration_ms)
    outcome = check.outcome
    verify = RequestTask.objects.create(
        request=erased.request,
        connector=erased.connector,
        action=Action.VERIFY_ERASURE,
        status=TaskStatus.SUCCEEDED,
        attempts=1,
        max_attempts=settings.TASK_MAX_ATTEMPTS,
        started_at=check.started_at,
        finished_at=finished,
        records_found=outcome.found,
        records_changed=outcome.changed,
        per_location=outcome.per_location,
        exemptions=[exemption_json(e) for e in outcome.exemptions],
        status_note="checked in the erasing run, right after the erasure",
    )
    TaskAttempt.objects.create(
        task=verify,
        number=1,
        started_at=check.started_at,
        finished_at=finished,
        duration_ms=check.duration_ms,
        outcome=AttemptOutcome.SUCCEEDED,
        worker=socket.gethostname(),
    )
    task_audit_succeeded(verify, outcome, SYSTEM)


def exemption_json(exemption: Exemption) -> dict[str, Any]:
    return exemption.to_json()
