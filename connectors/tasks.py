"""Celery tasks of connectors: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from connectors.discovery.services import (
    connector_rescan_by_id,
    connectors_rescan_all,
    discovery_run,
)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def discovery_scan_task(discovery_id: int) -> str:
    """Scan a store for the discovery the officer started."""
    return discovery_run(discovery_id=discovery_id)


@shared_task(acks_late=True)
def discovery_rescan_task(connector_id: int) -> str:
    """Re-scan one sql connector and flag what its map lacks."""
    return connector_rescan_by_id(connector_id=connector_id)


@shared_task(acks_late=True)
def discovery_rescan_all_task() -> int:
    """Daily (settings.CELERY_BEAT_SCHEDULE): queue every sql connector's re-scan."""
    return connectors_rescan_all()
