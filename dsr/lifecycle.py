"""The rules of the request lifecycle, in one place.

Which action each request status allows (`REQUEST_ACTIONS_BY_STATUS`), with
the extra conditions some actions carry (an extension is allowed once, and
only while the first period runs; a held access package is released, not
closed around; a clock is paused once at a time; the
subject may cancel only before the work starts), and which permission each
needs (`REQUEST_ACTION_RULES`). The same for a request's tasks
(`TASK_ACTIONS_BY_STATUS`, `TASK_ACTION_RULES`).

The services check these tables before they change anything
(`request_transition_check`, `task_transition_check`, raising
IllegalTransition, 409 in the API), and both front doors ask
`request_available_actions` / `task_available_actions` which buttons and
forms to show, so no page restates a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from accounts.actors import Actor, ActorKind
from accounts.permissions import Perm
from connectors.registry import kind_class
from dsr.choices import RequestStatus, TaskStatus
from dsr.clock import local_today, request_deadlines
from dsr.deadlines.counting import can_extend
from dsr.fanout import stores_unplanned
from dsr.models import AccessPackage, Request, RequestTask
from privacydesk.errors import IllegalTransition


class RequestAction(StrEnum):
    """What can be done to a request."""

    VERIFY = "verify"  # staff or a trusted system vouch for the requester
    PROVE_IDENTITY = "prove_identity"  # the requester types the e-mailed code
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    EXTEND = "extend"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    NOTE = "note"
    ASSIGN = "assign"  # name the staff member working the request
    # Plan a task in every enabled store that can do the work and has none
    # (a store connected after the request started, say).
    SEND_AGAIN = "send_again"
    RELEASE_PACKAGE = "release_package"  # an officer releases a held package


class TaskAction(StrEnum):
    """What a person can do to one task of a request."""

    RETRY = "retry"
    SKIP = "skip"
    DONE = "done"  # a person did the work by hand
    ATTACH = "attach"  # a person adds the proof of work done by hand


@dataclass(frozen=True)
class Refusal:
    """Why the lifecycle refuses an action now. `code` is for a page that
    explains one reason in its own words (e.g. "too_late")."""

    code: str
    message: str


_WHILE_OPEN = frozenset(
    {
        RequestAction.REJECT,
        RequestAction.CANCEL,
        RequestAction.EXTEND,
        RequestAction.PAUSE,
        RequestAction.RESUME,
        RequestAction.NOTE,
        RequestAction.ASSIGN,
    }
)
# A request closed while its clock was paused can still have the pause ended.
_WHEN_CLOSED = frozenset({RequestAction.RESUME, RequestAction.NOTE})

REQUEST_ACTIONS_BY_STATUS: dict[str, frozenset[RequestAction]] = {
    RequestStatus.RECEIVED: _WHILE_OPEN
    | {RequestAction.VERIFY, RequestAction.PROVE_IDENTITY},
    RequestStatus.VERIFIED: _WHILE_OPEN | {RequestAction.APPROVE},
    RequestStatus.IN_PROGRESS: _WHILE_OPEN
    | {RequestAction.CLOSE, RequestAction.SEND_AGAIN, RequestAction.RELEASE_PACKAGE},
    RequestStatus.COMPLETED: _WHEN_CLOSED,
    RequestStatus.PARTIALLY_COMPLETED: _WHEN_CLOSED,
    RequestStatus.FAILED: _WHEN_CLOSED,
    RequestStatus.REJECTED: _WHEN_CLOSED,
    RequestStatus.CANCELLED: _WHEN_CLOSED,
}
# The subject may cancel only before the work starts; staff until it ends.
SUBJECT_CANCELLABLE = frozenset({RequestStatus.RECEIVED, RequestStatus.VERIFIED})

RequestCondition = Callable[[Request, Actor | None], Refusal | None]


def _needs_approval(request: Request, actor: Actor | None) -> Refusal | None:
    if request.requires_approval:
        return None
    return Refusal("no_approval", f"request {request.reference} needs no approval")


def request_package_held(*, request: Request) -> bool:
    """The request's access package is built and held for an officer's
    review (REVIEW_BEFORE_ACCESS_RELEASE)."""
    return (
        request.review_before_release
        and AccessPackage.objects.filter(request=request, held=True).exists()
    )


def request_awaiting_review(*, request: Request) -> str:
    """What an officer's review holds up, if anything: "approval" (verified,
    its work waits for approval: REVIEW_BEFORE_ERASURE or
    REQUESTS_REQUIRE_APPROVAL), "release" (its package waits to be
    released), or "" (nothing)."""
    if (
        request.status == RequestStatus.VERIFIED
        and request.requires_approval
        and request.approved_at is None
    ):
        return "approval"
    if request.status == RequestStatus.IN_PROGRESS and request_package_held(
        request=request
    ):
        return "release"
    return ""


def _package_held(request: Request, actor: Actor | None) -> Refusal | None:
    if request_package_held(request=request):
        return None
    return Refusal(
        "no_package_held",
        f"request {request.reference} has no access package waiting for release",
    )


def _no_package_held(request: Request, actor: Actor | None) -> Refusal | None:
    # The answer to the subject is the package: release it (or reject the
    # request with reasons), not close around it.
    if not request_package_held(request=request):
        return None
    return Refusal(
        "package_held",
        f"the access package of {request.reference} waits for review: "
        "release it, or reject the request",
    )


def _extension_window(request: Request, actor: Actor | None) -> Refusal | None:
    """GDPR 12(3) / CCPA: one extension, told to the subject with its reasons
    within the first period (dsr.deadlines.can_extend, on the dates as of
    today: a pause moves them)."""
    if request.is_extended:
        return Refusal(
            "extended", f"request {request.reference} has been extended already"
        )
    deadlines = request_deadlines(request)
    if not can_extend(deadlines, notice_sent_on=local_today()):
        return Refusal(
            "too_late",
            "too late to extend: the notice had to reach the subject by "
            f"{deadlines.extension_notice_by.isoformat()}",
        )
    return None


def request_clock_paused(*, request: Request) -> bool:
    """Whether the request's clock is paused now (uses prefetched pauses)."""
    return any(pause.ended_at is None for pause in request.pauses.all())


def _not_paused(request: Request, actor: Actor | None) -> Refusal | None:
    if not request_clock_paused(request=request):
        return None
    return Refusal("paused", f"the clock of {request.reference} is paused already")


def _paused(request: Request, actor: Actor | None) -> Refusal | None:
    if request_clock_paused(request=request):
        return None
    return Refusal("not_paused", f"the clock of {request.reference} is not paused")


def _cancellable_by(request: Request, actor: Actor | None) -> Refusal | None:
    if actor is None or actor.kind != "subject":
        return None
    if request.status in SUBJECT_CANCELLABLE:
        return None
    return _status_refusal(RequestAction.CANCEL, request)


def _stores_to_send(request: Request, actor: Actor | None) -> Refusal | None:
    if stores_unplanned(request):
        return None
    return Refusal(
        "nothing_to_send",
        f"nothing to send: every enabled store that can work on {request.reference}"
        " has a task already",
    )


@dataclass(frozen=True)
class RequestActionRule:
    """Who may take an action and what else it needs beyond the status."""

    perm: Perm
    verb: str  # for the refusal: "cannot <verb> request ..."
    conditions: tuple[RequestCondition, ...] = ()
    # Only these kinds of actor take it (None: any with the permission).
    actors: frozenset[ActorKind] | None = None


REQUEST_ACTION_RULES: dict[RequestAction, RequestActionRule] = {
    RequestAction.VERIFY: RequestActionRule(Perm.REQUEST_VERIFY, "verify"),
    RequestAction.PROVE_IDENTITY: RequestActionRule(
        Perm.REQUEST_VIEW, "verify", actors=frozenset({"subject"})
    ),
    RequestAction.APPROVE: RequestActionRule(
        Perm.REQUEST_APPROVE, "approve", (_needs_approval,)
    ),
    RequestAction.REJECT: RequestActionRule(Perm.REQUEST_REJECT, "reject"),
    RequestAction.CANCEL: RequestActionRule(
        Perm.REQUEST_CANCEL, "cancel", (_cancellable_by,)
    ),
    RequestAction.EXTEND: RequestActionRule(
        Perm.REQUEST_EXTEND, "extend", (_extension_window,)
    ),
    RequestAction.PAUSE: RequestActionRule(Perm.REQUEST_PAUSE, "pause", (_not_paused,)),
    RequestAction.RESUME: RequestActionRule(Perm.REQUEST_PAUSE, "resume", (_paused,)),
    RequestAction.CLOSE: RequestActionRule(
        Perm.REQUEST_CLOSE, "close", (_no_package_held,)
    ),
    RequestAction.NOTE: RequestActionRule(Perm.REQUEST_NOTE, "add a note to"),
    RequestAction.ASSIGN: RequestActionRule(Perm.REQUEST_ASSIGN, "assign"),
    # Who may retry a store's task may send the request to the stores again.
    RequestAction.SEND_AGAIN: RequestActionRule(
        Perm.REQUEST_CLOSE, "send to the stores again", (_stores_to_send,)
    ),
    # Reviewing is approving: the officer's permission.
    RequestAction.RELEASE_PACKAGE: RequestActionRule(
        Perm.REQUEST_APPROVE, "release the package of", (_package_held,)
    ),
}


def _status_refusal(action: RequestAction, request: Request) -> Refusal:
    verb = REQUEST_ACTION_RULES[action].verb
    return Refusal(
        "status",
        f"cannot {verb} request {request.reference}: "
        f"it is {request.get_status_display().lower()}",
    )


def request_action_refusal(
    *, action: RequestAction, request: Request, actor: Actor | None = None
) -> Refusal | None:
    """Why the lifecycle refuses `action` on `request` now, or None if it
    allows it. Permissions are not checked here (`actor` matters only where
    the rule depends on who acts)."""
    if action not in REQUEST_ACTIONS_BY_STATUS[request.status]:
        return _status_refusal(action, request)
    for condition in REQUEST_ACTION_RULES[action].conditions:
        refusal = condition(request, actor)
        if refusal is not None:
            return refusal
    return None


def request_transition_check(
    *, action: RequestAction, request: Request, actor: Actor | None = None
) -> None:
    """Raise IllegalTransition unless the lifecycle allows `action` now."""
    refusal = request_action_refusal(action=action, request=request, actor=actor)
    if refusal is not None:
        raise IllegalTransition(refusal.message)


def _may(actor: Actor, rule: RequestActionRule | TaskActionRule) -> bool:
    if rule.actors is not None and actor.kind not in rule.actors:
        return False
    return actor.can(rule.perm)


def request_available_actions(
    *, actor: Actor, request: Request
) -> frozenset[RequestAction]:
    """What `actor` may do to `request` now: the lifecycle allows it and the
    actor holds its permission. The buttons a front door shows."""
    return frozenset(
        action
        for action, rule in REQUEST_ACTION_RULES.items()
        if _may(actor, rule)
        and request_action_refusal(action=action, request=request, actor=actor) is None
    )


def request_action_refusals(*, actor: Actor, request: Request) -> dict[str, Refusal]:
    """The actions `actor` holds the permission for that the lifecycle
    refuses now, and why (a page may explain one, e.g. a late extension)."""
    refusals: dict[str, Refusal] = {}
    for action, rule in REQUEST_ACTION_RULES.items():
        if not _may(actor, rule):
            continue
        refusal = request_action_refusal(action=action, request=request, actor=actor)
        if refusal is not None:
            refusals[action.value] = refusal
    return refusals


# --- tasks ------------------------------------------------------------------------

TASK_ACTIONS_BY_STATUS: dict[str, frozenset[TaskAction]] = {
    TaskStatus.PENDING: frozenset({TaskAction.SKIP}),
    TaskStatus.RUNNING: frozenset(),
    TaskStatus.WAITING: frozenset(
        {TaskAction.SKIP, TaskAction.DONE, TaskAction.ATTACH}
    ),
    TaskStatus.FAILED: frozenset({TaskAction.RETRY, TaskAction.SKIP}),
    # The proof of work done by hand may follow the "done".
    TaskStatus.SUCCEEDED: frozenset({TaskAction.ATTACH}),
    TaskStatus.EXEMPTED: frozenset(),
    TaskStatus.SKIPPED: frozenset(),
}


def task_by_hand(*, task: RequestTask) -> bool:
    """A person does this task: a manual store, or a fallback to a person
    for a store that cannot do the action itself."""
    return task.manual or kind_class(task.connector.kind).done_by_people


@dataclass(frozen=True)
class TaskActionRule:
    perm: Perm
    refused: str  # the refusal when the task's status does not allow it
    by_hand_only: bool = False
    actors: frozenset[ActorKind] | None = None


TASK_ACTION_RULES: dict[TaskAction, TaskActionRule] = {
    TaskAction.RETRY: TaskActionRule(
        Perm.REQUEST_CLOSE, "only a failed task can be retried"
    ),
    TaskAction.SKIP: TaskActionRule(
        Perm.REQUEST_CLOSE, "only a queued, waiting or failed task can be skipped"
    ),
    TaskAction.DONE: TaskActionRule(
        Perm.REQUEST_CLOSE, "this task is not waiting for a person", by_hand_only=True
    ),
    TaskAction.ATTACH: TaskActionRule(
        Perm.REQUEST_CLOSE,
        "this task is not waiting for a person or done",
        by_hand_only=True,
    ),
}


def task_action_refusal(
    *, action: TaskAction, request: Request, task: RequestTask
) -> Refusal | None:
    """Why the lifecycle refuses `action` on `task` of `request` now."""
    rule = TASK_ACTION_RULES[action]
    if not request.is_open:
        return Refusal("closed", f"request {request.reference} is closed")
    if rule.by_hand_only and not task_by_hand(task=task):
        if action == TaskAction.ATTACH:
            return Refusal("not_by_hand", "only a manual task takes an attachment")
        return Refusal("not_by_hand", "this task is not done by a person")
    if action not in TASK_ACTIONS_BY_STATUS[task.status]:
        return Refusal("status", rule.refused)
    return None


def task_statuses_allowing(action: TaskAction) -> list[str]:
    """The task statuses from which `action` may move a task (for the
    compare-and-swap that guards it)."""
    return [
        status
        for status, actions in TASK_ACTIONS_BY_STATUS.items()
        if action in actions
    ]


def task_transition_check(
    *, action: TaskAction, request: Request, task: RequestTask
) -> None:
    refusal = task_action_refusal(action=action, request=request, task=task)
    if refusal is not None:
        raise IllegalTransition(refusal.message)


def task_available_actions(
    *, actor: Actor, request: Request, task: RequestTask
) -> frozenset[TaskAction]:
    """What `actor` may do to `task` now: the buttons on the task's row."""
    return frozenset(
        action
        for action, rule in TASK_ACTION_RULES.items()
        if _may(actor, rule)
        and task_action_refusal(action=action, request=request, task=task) is None
    )
