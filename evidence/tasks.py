"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def evidence_pack_generate_task(request_id: int, waited: int = 0) -> str:
    """The evidence pack of a request that has just closed (idempotent).

    It yields to request tasks: see `background_wait_seconds`."""
    from evidence.services import evidence_pack_generate_on_close

    eager = evidence_pack_generate_task.request.is_eager  # eager: there is no later
    if not eager and (wait := background_wait_seconds(waited)):
        evidence_pack_generate_task.apply_async(
            args=(request_id, waited + wait), countdown=wait
        )
        return "waiting for request tasks"
    return evidence_pack_generate_on_close(request_id=request_id)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def purge_run_evidence_pack_task(run_id: int) -> str:
    """The evidence pack of a purge run that has just ended (idempotent)."""
    from evidence.services import evidence_pack_generate_on_run_end

    return evidence_pack_generate_on_run_end(run_id=run_id)


def background_wait_seconds(waited: int) -> int:
    """How long background work that has waited `waited` seconds should wait
    again: settings.BACKGROUND_YIELD_SECONDS while request tasks are queued
    or running, 0 when none are or when it has waited
    BACKGROUND_MAX_WAIT_SECONDS in all."""
    from dsr.selectors import request_work_waiting

    step = settings.BACKGROUND_YIELD_SECONDS
    if step <= 0 or waited + step > settings.BACKGROUND_MAX_WAIT_SECONDS:
        return 0
    return step if request_work_waiting() else 0
