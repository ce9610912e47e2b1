"""The sweeper puts back what a dead worker left running, and says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import actor_system
from connectors.services import connector_create
from dsr.models import RequestTask
from dsr.services.execution.sweeping import tasks_sweep
from tests.disclosure import CATEGORIES, DISCLOSURE


@pytest.mark.django_db
def test_an_attempt_cut_short_by_a_dead_worker_is_recorded_as_lost(
    make_request, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASK_STALE_AFTER_SECONDS = 60
    connector_create(
        actor=actor_system("tests"),
        name="billing",
        kind="manual",
        config={"instructions": "Find the customer by e-mail and flag them."},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    request = make_request(kind="erasure", verified=True)
    (task,) = request.tasks.all()
    # given a task a worker claimed (its second attempt) and then died on:
    # running for ten minutes, and no row for the attempt, which is written
    # only when an attempt ends
    started = timezone.now() - timedelta(minutes=10)
    RequestTask.objects.filter(pk=task.pk).update(
        status="running", attempts=2, started_at=started
    )
    task.tries.create(
        number=1,
        started_at=started - timedelta(minutes=5),
        finished_at=started - timedelta(minutes=4),
        outcome="retry",
        error="the store timed out",
    )

    # when the sweeper runs
    with django_capture_on_commit_callbacks(execute=False):
        swept = tasks_sweep()

    # then the task is queued again and the lost attempt is on record
    task.refresh_from_db()
    assert swept["revived"] == 1
    assert task.status == "pending"
    first, lost = task.tries.order_by("number")
    assert first.error == "the store timed out"
    assert (lost.number, lost.outcome, lost.error) == (
        2,
        "retry",
        "worker lost; re-queued",
    )
    assert lost.started_at == started
    assert 600_000 <= lost.duration_ms < 660_000
    # and a second sweep adds nothing
    RequestTask.objects.filter(pk=task.pk).update(status="running")
    with django_capture_on_commit_callbacks(execute=False):
        tasks_sweep()
    assert task.tries.count() == 2
