"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task

from consent.services.propagations import propagation_run, propagations_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True)
def propagate_consent_task(propagation_id: int) -> str:
    """Push one withdrawal to one connector; safe to deliver twice."""
    return propagation_run(propagation_id=propagation_id)


@shared_task(acks_late=True)
def sweep_consent_propagations_task() -> dict[str, int]:
    return propagations_sweep()
