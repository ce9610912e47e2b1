"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_package_ready_task(request_id: int) -> bool:
    from evidence.services import access_package_notify_ready

    return access_package_notify_ready(request_id=request_id)


@shared_task(acks_late=True)
def purge_expired_access_packages_task() -> int:
    from evidence.services import access_packages_purge_expired

    return access_packages_purge_expired()


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def evidence_pack_generate_task(request_id: int) -> str:
    """The evidence pack of a request that has just closed (idempotent)."""
    from evidence.services import evidence_pack_generate_on_close

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
