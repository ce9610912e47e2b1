"""Periodic work of the audited account actions."""

from __future__ import annotations

from celery import shared_task

from audit.access_reviews import access_review_create_if_due


@shared_task
def access_review_due_task() -> str:
    """Daily: open the next access review once ACCESS_REVIEW_INTERVAL_DAYS have
    passed since the last one began (safe to run twice: the first opens it)."""
    return access_review_create_if_due()
