"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from retention.services.run_endings import purge_run_alert_send
from retention.services.runs import (
    purge_run_resume_scheduled,
    purge_run_scheduled,
    purge_runs_sweep,
)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_run_task(
    policy_id: int,
    dry_run: bool = False,
    triggered_by: str = "system:beat",
    confirmed_from: int | None = None,
) -> str:
    """Run one policy (beat's schedule, or "Run now" with the staff ref and
    the id of the dry run they confirmed)."""
    return purge_run_scheduled(
        policy_id=policy_id,
        dry_run=dry_run,
        triggered_by=triggered_by,
        confirmed_from=confirmed_from,
    )


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def purge_run_alert_task(run_id: int) -> bool:
    return purge_run_alert_send(run_id=run_id)


@shared_task(acks_late=True)
def sweep_purge_runs_task() -> int:
    return purge_runs_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_run_resume_task(run_id: int) -> str:
    return purge_run_resume_scheduled(run_id=run_id)
