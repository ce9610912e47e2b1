"""The request page shows exactly the actions dsr.lifecycle offers: no page
restates a rule, so a button is never missing or there to fail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_for_user
from connectors.models import Connector
from dsr.choices import RequestStatus, TaskStatus
from dsr.lifecycle import (
    request_action_refusals,
    request_available_actions,
    task_available_actions,
)
from dsr.models import Request, RequestTask


def _page(user: User, request: Request) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("dashboard:request_detail", args=[request.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def _request_forms(body: str, request: Request) -> set[str]:
    """The request actions the page has a form for."""
    return set(
        re.findall(
            rf'action="/dashboard/requests/{request.public_id}/([a-z_]+)/"', body
        )
    )


def _task_forms(body: str, request: Request, task: RequestTask) -> set[str]:
    return set(
        re.findall(
            rf'action="/dashboard/requests/{request.public_id}/tasks/'
            rf'{task.public_id}/([a-z_]+)/"',
            body,
        )
    )


@pytest.fixture
def staff(officer: User, agent: User, auditor: User) -> list[User]:
    return [officer, agent, auditor]


@pytest.mark.parametrize("paused", [False, True])
@pytest.mark.parametrize("status", list(RequestStatus))
def test_each_role_sees_exactly_the_available_actions(
    request_in: Any, staff: list[User], status: str, paused: bool
) -> None:
    request = request_in(status, paused=paused)
    for user in staff:
        # when this person opens the page
        body = _page(user, request)

        # then it offers what the lifecycle offers them, nothing else
        available = request_available_actions(
            actor=actor_for_user(user), request=request
        )
        assert _request_forms(body, request) == {a.value for a in available}, user


@pytest.mark.parametrize(
    ("today", "note_shown"),
    [
        (datetime(2025, 2, 20, 10, 0, tzinfo=UTC), False),
        (datetime(2025, 3, 3, 10, 0, tzinfo=UTC), True),
    ],
)
def test_a_late_extension_is_explained_not_offered(
    make_request: Any, officer: User, agent: User, today: datetime, note_shown: bool
) -> None:
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        request = make_request(verified=True)

    with time_machine.travel(today, tick=False):
        officer_page = _page(officer, request)
        agent_page = _page(agent, request)
        refusal = request_action_refusals(
            actor=actor_for_user(officer), request=request
        ).get("extend")

    assert ("extend" in _request_forms(officer_page, request)) is (refusal is None)
    assert ("Too late to extend" in officer_page) is note_shown
    assert "Too late to extend" not in agent_page  # not theirs to take anyway


def test_each_task_row_offers_exactly_the_available_actions(
    request_in: Any, officer: User, agent: User
) -> None:
    # given a request with tasks in every status, done by hand or not
    request = request_in(RequestStatus.IN_PROGRESS)
    tasks = [
        RequestTask.objects.create(
            request=request,
            connector=Connector.objects.create(
                name=f"{kind}-{status}", kind=kind, config={}
            ),
            action="erase",
            status=status,
        )
        for kind in ("manual", "http")
        for status in TaskStatus
    ]

    for user in (officer, agent):
        body = _page(user, request)
        for task in tasks:
            available = task_available_actions(
                actor=actor_for_user(user), request=request, task=task
            )
            assert _task_forms(body, request, task) == {a.value for a in available}, (
                user,
                task.connector.kind,
                task.status,
            )
