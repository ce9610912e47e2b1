"""Work an app hands to an app above it, wired by task name in settings.

A lower layer never imports a higher one (docs/architecture.md), yet a
closed request needs its evidence pack, and so does a finished purge run.
The app that finishes the work names the setting (`REQUEST_CLOSED_TASKS`,
`PURGE_RUN_ENDED_TASKS`); the composition root, settings.py, lists there the
Celery tasks to send, by dotted name, so nothing imports back up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Task
from django.conf import settings
from kombu.utils.imports import symbol_by_name


def wired_tasks_send(
    setting: str, *, args: Sequence[Any], channel: str | None = None
) -> list[str]:
    """Send every Celery task named in `settings.<setting>` with `args`;
    returns their names. An entry is a dotted name, or (name, channel):
    sent only for a request that came by that channel (the OpenDSR door's
    status callbacks), so other requests cost no message; for consent the
    channel is the purpose's slug (CONSENT_CHANGED_TASKS). Each is sent as
    itself (`apply_async`), so its route and priority (CELERY_TASK_ROUTES)
    apply, and eager mode in tests."""
    names: list[str] = []
    for entry in getattr(settings, setting):
        name, only = (entry, None) if isinstance(entry, str) else entry
        if only is not None and only != channel:
            continue
        task: Task[Any, Any] = symbol_by_name(name)
        task.apply_async(args=tuple(args))
        names.append(name)
    return names
