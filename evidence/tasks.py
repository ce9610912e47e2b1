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
