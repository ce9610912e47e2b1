"""Fan-out planning: one task per store and action, written once, marked sent."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.actors import actor_system
from audit.models import AuditEvent
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.execution.planning import request_plan_tasks
from dsr.services.requests import request_approve

pytestmark = pytest.mark.django_db


def _fanned_out(request: Request) -> list[dict[str, Any]]:
    return [
        event.data
        for event in AuditEvent.objects.filter(
            object_id=str(request.public_id), action="request.fanned_out"
        ).order_by("sequence")
    ]


def test_verification_starts_the_request_and_plans_one_task_per_store(
    make_request: Any, stores: None, django_capture_on_commit_callbacks: Any
) -> None:
    # when a request is entered verified
    with django_capture_on_commit_callbacks(execute=False) as sent:
        request = make_request(kind="erasure", verified=True)

    # then it is in progress with one queued task per store, each marked as
    # handed to the broker when it was written, and the broker is called once
    # for them (and once for what is wired to a verification)
    tasks = list(RequestTask.objects.filter(request=request).order_by("pk"))
    assert request.status == RequestStatus.IN_PROGRESS
    assert [t.connector.name for t in tasks] == ["billing-desk", "legacy-crm"]
    assert all(t.status == TaskStatus.PENDING for t in tasks)
    assert all(t.enqueued_at is not None for t in tasks)
    assert sorted(callback.__qualname__.split(".")[0] for callback in sent) == [
        "request_verified_send",
        "tasks_enqueue_after_commit",
    ]
    assert _fanned_out(request) == [
        {"tasks": [str(t.public_id) for t in tasks], "action": "erase"}
    ]
    # verified and started in one write: the history goes from received
    # straight to in progress (the audit chain has both steps)
    statuses = list(
        request.history.order_by("history_date").values_list("status", flat=True)
    )
    assert RequestStatus.VERIFIED not in statuses
    assert statuses[-1] == RequestStatus.IN_PROGRESS


def test_planning_again_adds_no_task(
    make_request: Any, stores: None, settings: Any
) -> None:
    # given a request that needed approval, approved (and so planned)
    settings.REQUESTS_REQUIRE_APPROVAL = True
    request = make_request(kind="access", verified=True)
    assert request.status == RequestStatus.VERIFIED
    assert not RequestTask.objects.filter(request=request).exists()
    officer = actor_system("tests")
    request = request_approve(actor=officer, request=request)
    first = set(
        RequestTask.objects.filter(request=request).values_list("pk", flat=True)
    )
    assert len(first) == 2

    # when planning runs again (a replayed transition)
    again = request_plan_tasks(actor=officer, request=request)

    # then the same two tasks come back and none is added
    assert {t.pk for t in again} == first
    assert RequestTask.objects.filter(request=request).count() == 2
