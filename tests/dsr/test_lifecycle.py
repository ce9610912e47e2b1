"""The lifecycle's table (dsr.lifecycle): what each status allows, the extra
conditions, who may act, and the services refusing what the table refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.actors import Actor, actor_for_client, actor_for_subject, actor_for_user
from accounts.models import ApiClient
from connectors.models import Connector
from dsr.choices import RequestStatus, TaskStatus
from dsr.lifecycle import (
    REQUEST_ACTIONS_BY_STATUS,
    TASK_ACTIONS_BY_STATUS,
    RequestAction,
    TaskAction,
    request_action_refusal,
    request_action_refusals,
    request_available_actions,
    task_action_refusal,
    task_available_actions,
    task_statuses_allowing,
)
from dsr.models import Request, RequestTask
from dsr.services.clock import request_extend, request_pause, request_resume
from dsr.services.package_reviews import access_package_release
from dsr.services.requests import (
    request_add_note,
    request_approve,
    request_cancel,
    request_close,
    request_reject,
    request_verify,
)
from privacydesk.errors import IllegalTransition

A = RequestAction
OPEN = {A.REJECT, A.CANCEL, A.EXTEND, A.PAUSE, A.RESUME, A.NOTE, A.ASSIGN}
CLOSED = {A.RESUME, A.NOTE}

# The table, written out once more as the documentation reads it.
EXPECTED_BY_STATUS = {
    RequestStatus.RECEIVED: OPEN | {A.VERIFY, A.PROVE_IDENTITY},
    RequestStatus.VERIFIED: OPEN | {A.APPROVE},
    RequestStatus.IN_PROGRESS: OPEN | {A.CLOSE, A.SEND_AGAIN, A.RELEASE_PACKAGE},
    RequestStatus.COMPLETED: CLOSED,
    RequestStatus.PARTIALLY_COMPLETED: CLOSED,
    RequestStatus.FAILED: CLOSED,
    RequestStatus.REJECTED: CLOSED,
    RequestStatus.CANCELLED: CLOSED,
}


def _allowed(request: Request, actor: Actor | None = None) -> set[RequestAction]:
    return {
        action
        for action in RequestAction
        if request_action_refusal(action=action, request=request, actor=actor) is None
    }


# --- the table ----------------------------------------------------------------------


@pytest.mark.parametrize("status", list(RequestStatus))
def test_each_status_allows_these_actions(status: str) -> None:
    assert REQUEST_ACTIONS_BY_STATUS[status] == EXPECTED_BY_STATUS[status]


@pytest.mark.parametrize("paused", [False, True])
@pytest.mark.parametrize("status", list(RequestStatus))
def test_a_request_in_each_status_allows_what_the_table_says(
    request_in: Any, status: str, paused: bool
) -> None:
    # given a request in this status, its clock running or paused
    request = request_in(status, paused=paused)

    # then the table's actions are allowed, but a clock is paused or resumed
    # only when that changes something, with no store enabled there is
    # nothing to send to the stores again, and a package is released only
    # when one is held (see test_review.py)
    expected = EXPECTED_BY_STATUS[status] - ({A.PAUSE} if paused else {A.RESUME})
    assert _allowed(request) == expected - {A.SEND_AGAIN, A.RELEASE_PACKAGE}


def test_a_refused_status_says_which_status(request_in: Any) -> None:
    request = request_in(RequestStatus.CANCELLED)
    refusal = request_action_refusal(action=A.CLOSE, request=request)
    assert refusal is not None
    assert refusal.code == "status"
    assert refusal.message == (
        f"cannot close request {request.reference}: it is cancelled"
    )


# --- the extra conditions ---------------------------------------------------------


def test_an_extension_is_allowed_once(make_request: Any, officer_actor: Actor) -> None:
    request = make_request(verified=True)
    assert request_action_refusal(action=A.EXTEND, request=request) is None

    request = request_extend(
        actor=officer_actor, request=request, reason="Many systems to search"
    )

    refusal = request_action_refusal(action=A.EXTEND, request=request)
    assert refusal is not None
    assert refusal.code == "extended"


@pytest.mark.parametrize(
    ("today", "allowed"),
    [
        (datetime(2025, 2, 28, 22, 0, tzinfo=UTC), True),  # the last day
        (datetime(2025, 3, 1, 10, 0, tzinfo=UTC), False),
    ],
)
def test_an_extension_is_allowed_only_while_the_first_period_runs(
    make_request: Any, today: datetime, allowed: bool
) -> None:
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        request = make_request(verified=True)
    assert request.extension_notice_by.isoformat() == "2025-02-28"

    with time_machine.travel(today, tick=False):
        refusal = request_action_refusal(action=A.EXTEND, request=request)

    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal.code == "too_late"
        assert "2025-02-28" in refusal.message


def test_approval_only_where_it_is_required(request_in: Any) -> None:
    request = request_in(RequestStatus.VERIFIED)
    Request.objects.filter(pk=request.pk).update(requires_approval=False)
    request.refresh_from_db()

    refusal = request_action_refusal(action=A.APPROVE, request=request)

    assert refusal is not None
    assert refusal.code == "no_approval"


@pytest.mark.parametrize(
    ("status", "subject_may", "staff_may"),
    [
        (RequestStatus.RECEIVED, True, True),
        (RequestStatus.VERIFIED, True, True),
        (RequestStatus.IN_PROGRESS, False, True),
        (RequestStatus.COMPLETED, False, False),
    ],
)
def test_the_subject_may_cancel_only_before_the_work_starts(
    request_in: Any,
    officer_actor: Actor,
    status: str,
    subject_may: bool,
    staff_may: bool,
) -> None:
    request = request_in(status)
    subject = actor_for_subject(str(request.public_id))

    by_subject = request_action_refusal(action=A.CANCEL, request=request, actor=subject)
    by_staff = request_action_refusal(
        action=A.CANCEL, request=request, actor=officer_actor
    )

    assert (by_subject is None) is subject_may
    assert (by_staff is None) is staff_may


# --- who may: the table and the actor's permissions ---------------------------------


def test_available_actions_follow_each_role(
    request_in: Any, officer: Any, agent: Any, auditor: Any
) -> None:
    request = request_in(RequestStatus.IN_PROGRESS)

    def available(actor: Actor) -> set[str]:
        return set(request_available_actions(actor=actor, request=request))

    assert available(actor_for_user(officer)) == OPEN - {A.RESUME} | {A.CLOSE}
    assert available(actor_for_user(agent)) == {A.NOTE}
    assert available(actor_for_user(auditor)) == set()
    assert available(actor_for_subject(str(request.public_id))) == set()


def test_a_received_request_offers_the_subject_its_code_and_cancelling(
    request_in: Any, agent: Any
) -> None:
    request = request_in(RequestStatus.RECEIVED)
    subject = actor_for_subject(str(request.public_id))

    assert request_available_actions(actor=subject, request=request) == {
        A.PROVE_IDENTITY,
        A.CANCEL,
    }
    # staff vouch instead of typing the code
    assert request_available_actions(actor=actor_for_user(agent), request=request) == {
        A.VERIFY,
        A.NOTE,
    }


def test_api_clients_get_the_actions_of_their_scopes(request_in: Any) -> None:
    request = request_in(RequestStatus.VERIFIED)
    client = ApiClient(name="crm", scopes=["requests:read", "requests:manage"])

    available = request_available_actions(
        actor=actor_for_client(client), request=request
    )

    assert available == {A.APPROVE, A.REJECT, A.CANCEL, A.EXTEND, A.PAUSE}


def test_refusals_name_what_the_actor_could_do_but_not_now(
    make_request: Any, officer_actor: Actor, agent: Any
) -> None:
    with time_machine.travel(datetime(2025, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        request = make_request(verified=True)

    with time_machine.travel(datetime(2025, 3, 3, 10, 0, tzinfo=UTC), tick=False):
        officer = request_action_refusals(actor=officer_actor, request=request)
        support = request_action_refusals(actor=actor_for_user(agent), request=request)

    assert officer[A.EXTEND].code == "too_late"
    assert A.EXTEND not in support  # not theirs to take anyway


# --- the services refuse what the table refuses -------------------------------------

SERVICES: dict[RequestAction, Callable[[Actor, Request], Any]] = {
    A.VERIFY: lambda a, r: request_verify(actor=a, request=r, method="staff_checked"),
    A.APPROVE: lambda a, r: request_approve(actor=a, request=r),
    A.REJECT: lambda a, r: request_reject(
        actor=a, request=r, reason="Manifestly unfounded"
    ),
    A.CANCEL: lambda a, r: request_cancel(actor=a, request=r),
    A.EXTEND: lambda a, r: request_extend(actor=a, request=r, reason="Many systems"),
    A.PAUSE: lambda a, r: request_pause(actor=a, request=r, reason="clarification"),
    A.RESUME: lambda a, r: request_resume(actor=a, request=r),
    A.CLOSE: lambda a, r: request_close(actor=a, request=r, outcome="completed"),
    A.NOTE: lambda a, r: request_add_note(actor=a, request=r, text="Called back"),
    A.RELEASE_PACKAGE: lambda a, r: access_package_release(actor=a, request=r),
}


# Every action a running clock refuses in these statuses (a clock that runs
# cannot be resumed).
REFUSED = [
    (status, action)
    for status in (
        RequestStatus.RECEIVED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.FAILED,
    )
    for action in SERVICES
    if action not in EXPECTED_BY_STATUS[status] - {A.RESUME}
]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_each_service_refuses_what_the_table_refuses(
    request_in: Any, officer_actor: Actor, status: str, action: RequestAction
) -> None:
    # given a request in this status, where the table refuses the action
    request = request_in(status)
    refusal = request_action_refusal(action=action, request=request)
    assert refusal is not None

    # when the service is called anyway, then it refuses with the same words
    with pytest.raises(IllegalTransition) as refused:
        SERVICES[action](officer_actor, request)
    assert refused.value.message == refusal.message

    # and nothing changed
    request.refresh_from_db()
    assert request.status == status


# --- tasks --------------------------------------------------------------------------

T = TaskAction
EXPECTED_BY_TASK_STATUS = {
    TaskStatus.PENDING: {T.SKIP},
    TaskStatus.RUNNING: set(),
    TaskStatus.WAITING: {T.SKIP, T.DONE, T.ATTACH},
    TaskStatus.FAILED: {T.RETRY, T.SKIP},
    TaskStatus.SUCCEEDED: {T.ATTACH},
    TaskStatus.EXEMPTED: set(),
    TaskStatus.SKIPPED: set(),
}
BY_HAND_ONLY = {T.DONE, T.ATTACH}


@pytest.mark.parametrize("status", list(TaskStatus))
def test_each_task_status_allows_these_actions(status: str) -> None:
    assert TASK_ACTIONS_BY_STATUS[status] == EXPECTED_BY_TASK_STATUS[status]


def test_the_compare_and_swap_uses_the_table() -> None:
    assert task_statuses_allowing(T.RETRY) == [TaskStatus.FAILED]
    assert set(task_statuses_allowing(T.SKIP)) == {
        TaskStatus.PENDING,
        TaskStatus.WAITING,
        TaskStatus.FAILED,
    }


def _task(request: Request, *, kind: str, status: str, manual: bool = False) -> Any:
    connector = Connector.objects.create(name=f"{kind}-{status}", kind=kind, config={})
    return RequestTask.objects.create(
        request=request,
        connector=connector,
        action="erase",
        status=status,
        manual=manual,
    )


@pytest.mark.parametrize("by_hand", ["manual kind", "fallback", "automatic"])
@pytest.mark.parametrize("status", list(TaskStatus))
def test_a_task_in_each_status_allows_what_the_table_says(
    request_in: Any, status: str, by_hand: str
) -> None:
    request = request_in(RequestStatus.IN_PROGRESS)
    task = _task(
        request,
        kind="manual" if by_hand == "manual kind" else "http",
        status=status,
        manual=by_hand == "fallback",
    )

    allowed = {
        action
        for action in TaskAction
        if task_action_refusal(action=action, request=request, task=task) is None
    }

    expected = EXPECTED_BY_TASK_STATUS[status]
    if by_hand == "automatic":
        expected = expected - BY_HAND_ONLY
    assert allowed == expected


def test_a_closed_request_takes_no_task_action(
    request_in: Any, officer_actor: Actor
) -> None:
    request = request_in(RequestStatus.CANCELLED)
    task = _task(request, kind="manual", status=TaskStatus.WAITING)

    assert task_available_actions(actor=officer_actor, request=request, task=task) == (
        frozenset()
    )
    refusal = task_action_refusal(action=T.DONE, request=request, task=task)
    assert refusal is not None
    assert refusal.code == "closed"


def test_task_actions_need_the_permission_to_close(
    request_in: Any, officer_actor: Actor, agent: Any
) -> None:
    request = request_in(RequestStatus.IN_PROGRESS)
    task = _task(request, kind="manual", status=TaskStatus.FAILED)

    assert task_available_actions(actor=officer_actor, request=request, task=task) == {
        T.RETRY,
        T.SKIP,
    }
    assert not task_available_actions(
        actor=actor_for_user(agent), request=request, task=task
    )


def test_time_does_not_change_a_status_rule(request_in: Any) -> None:
    # The window is the only rule that moves with the calendar.
    request = request_in(RequestStatus.IN_PROGRESS)
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        allowed = _allowed(request)
    assert allowed == EXPECTED_BY_STATUS[RequestStatus.IN_PROGRESS] - {
        A.RESUME,
        A.EXTEND,
        A.SEND_AGAIN,  # no store enabled: nothing to send
        A.RELEASE_PACKAGE,
    }


def test_send_again_is_allowed_while_an_enabled_store_has_no_task(
    request_in: Any,
) -> None:
    # given an in-progress request that was never planned, and a store
    request = request_in(RequestStatus.IN_PROGRESS)
    assert request_action_refusal(action=A.SEND_AGAIN, request=request).code == (
        "nothing_to_send"
    )
    store = Connector.objects.create(
        name="helpdesk", kind="manual", config={"instructions": "Delete by hand."}
    )

    # then it may be sent again, until that store has its task
    assert request_action_refusal(action=A.SEND_AGAIN, request=request) is None
    RequestTask.objects.create(request=request, connector=store, action="access")
    refusal = request_action_refusal(action=A.SEND_AGAIN, request=request)
    assert refusal is not None
    assert refusal.code == "nothing_to_send"
