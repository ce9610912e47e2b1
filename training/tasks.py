"""Thin tasks: take ids, call one service. Wired by name in settings."""

from __future__ import annotations

from celery import shared_task

from training.services.triggers import exclusions_for_consent, exclusions_for_requests


@shared_task(acks_late=True)
def training_requests_verified_task(request_ids: list[int]) -> None:
    """settings.REQUEST_VERIFIED_TASKS: requests just verified (any kind; the
    service keeps erasures and objections). Safe to run twice."""
    exclusions_for_requests(request_ids=request_ids)


@shared_task(acks_late=True)
def training_consent_changed_task(subject_id: int) -> None:
    """settings.CONSENT_CHANGED_TASKS, scoped to the model-training purpose:
    follows the subject's current choice. Safe to run twice."""
    exclusions_for_consent(subject_id=subject_id)
