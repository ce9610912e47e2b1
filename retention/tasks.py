"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_run_task(
    policy_id: int, dry_run: bool = False, triggered_by: str = "system:beat"
) -> str:
    """Run one policy (beat's schedule, or "Run now" with the staff ref)."""
    from retention.services.runs import purge_run_scheduled

    return purge_run_scheduled(
        policy_id=policy_id, dry_run=dry_run, triggered_by=triggered_by
    )


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def purge_run_alert_task(run_id: int) -> bool:
    from retention.services.runs import purge_run_alert_send

    return purge_run_alert_send(run_id=run_id)


@shared_task(acks_late=True)
def sweep_purge_runs_task() -> int:
    from retention.services.runs import purge_runs_sweep

    return purge_runs_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_run_resume_task(run_id: int) -> str:
    from retention.services.runs import purge_run_resume_scheduled

    return purge_run_resume_scheduled(run_id=run_id)
