"""Evidence packs yield to request tasks, but not for ever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from connectors.models import Connector
from dsr.choices import TaskStatus
from dsr.models import RequestTask
from evidence.tasks import background_wait_seconds

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_task(make_request: Any, settings: Any) -> RequestTask:
    """A queued erasure task for an http store (not run: no commit in tests)."""
    settings.BACKGROUND_YIELD_SECONDS = 5
    settings.BACKGROUND_MAX_WAIT_SECONDS = 60
    Connector.objects.create(
        name="crm-webhook",
        kind="http",
        config={"url": "https://crm.example.com/privacy/jobs"},
        secrets={"signing_key": "k" * 32},
    )
    request = make_request(kind="erasure", verified=True)
    task = RequestTask.objects.get(request=request)
    assert task.status == TaskStatus.PENDING
    return task


def test_a_queued_or_running_task_makes_background_work_wait(
    store_task: RequestTask,
) -> None:
    assert background_wait_seconds(0) == 5
    RequestTask.objects.filter(pk=store_task.pk).update(status=TaskStatus.RUNNING)
    assert background_wait_seconds(0) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"status": TaskStatus.SUCCEEDED},
        {"status": TaskStatus.WAITING},  # a webhook or an agent has it
        {"next_attempt_at": timezone.now() + timedelta(minutes=5)},  # backing off
    ],
    ids=["done", "waiting-outside", "backing-off"],
)
def test_work_that_is_not_due_here_does_not_hold_it_back(
    store_task: RequestTask, change: dict[str, Any]
) -> None:
    RequestTask.objects.filter(pk=store_task.pk).update(**change)
    assert background_wait_seconds(0) == 0


def test_it_stops_waiting_after_the_maximum(store_task: RequestTask) -> None:
    assert background_wait_seconds(55) == 5
    assert background_wait_seconds(56) == 0


def test_zero_turns_waiting_off(store_task: RequestTask, settings: Any) -> None:
    settings.BACKGROUND_YIELD_SECONDS = 0
    assert background_wait_seconds(0) == 0
