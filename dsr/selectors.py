"""Reads of requests, always scoped to who is asking."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor
from accounts.choices import Role
from accounts.permissions import Perm
from connectors.choices import Action
from connectors.models import Connector
from dsr.choices import (
    OPEN_STATUSES,
    TERMINAL_TASK_STATUSES,
    NotificationStatus,
    RequestStatus,
    TaskStatus,
)
from dsr.clock import local_today
from dsr.fanout import ACTIONS_FOR_KIND, stores_unplanned
from dsr.links import status_token_read
from dsr.models import (
    AgentAuthority,
    ClockPause,
    DataPointCheck,
    LegalHold,
    RecipientNotification,
    Request,
    RequestTask,
)
from privacydesk.errors import ValidationFailed
from subjects.models import DataSubject

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def request_list(
    *,
    actor: Actor,
    status: str | None = None,
    kind: str | None = None,
    regime: str | None = None,
    due_within_days: int | None = None,
    overdue: bool = False,
    search: str | None = None,
    assignee_id: int | None = None,
    awaiting_review: bool = False,
) -> QuerySet[Request]:
    """Requests by due date; each carries `clock_paused` (a pause is running)."""
    actor.require(Perm.REQUEST_VIEW)
    qs = Request.objects.select_related("subject", "assignee").annotate(
        clock_paused=Exists(
            ClockPause.objects.filter(request=OuterRef("pk"), ended_at__isnull=True)
        )
    )
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if awaiting_review:
        qs = qs.filter(awaiting_review_q())
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if regime:
        qs = qs.filter(regime=regime)
    today = local_today()
    if due_within_days is not None:
        if due_within_days < 0:
            raise ValidationFailed("must be zero or more", field="due_within")
        qs = qs.filter(
            status__in=OPEN_STATUSES,
            due_on__lte=today + timedelta(days=due_within_days),
        )
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_on__lt=today)
    if search:
        term = search.strip()
        qs = qs.filter(Q(reference__iexact=term) | Q(reference__icontains=term))
    return qs.order_by("due_on", "received_at")


# The roles that work requests, and so may have one assigned to them.
ASSIGNABLE_ROLES = (Role.PRIVACY_OFFICER, Role.SUPPORT_AGENT, Role.ADMIN)


def request_assignees() -> QuerySet[User]:
    """Active staff who work requests (not auditors), by name."""
    user_model = get_user_model()
    return (
        user_model.objects.filter(is_active=True)
        .filter(
            Q(groups__name__in=[role.value for role in ASSIGNABLE_ROLES])
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by(user_model.USERNAME_FIELD)
    )


def awaiting_review_q() -> Q:
    """Requests an officer's review holds up (the queue's "Waiting for
    review"; dsr.lifecycle.request_awaiting_review says the same of one):
    verified and waiting for approval, or in progress with a held package."""
    return Q(
        status=RequestStatus.VERIFIED,
        requires_approval=True,
        approved_at__isnull=True,
    ) | Q(
        status=RequestStatus.IN_PROGRESS,
        review_before_release=True,
        access_package__held=True,
    )


def request_get(*, actor: Actor, public_id: str) -> Request:
    actor.require(Perm.REQUEST_VIEW)
    return Request.objects.select_related("subject").get(public_id=public_id)


def request_get_for_subject(*, token: str) -> Request | None:
    """The request a portal status link points at, or None if the link is bad."""
    public_id = status_token_read(token)
    if public_id is None:
        return None
    return Request.objects.filter(public_id=public_id).first()


def requests_needing_attention(*, due_within_days: int) -> QuerySet[Request]:
    """Open requests due within N days or overdue (for reminders)."""
    today = local_today()
    return Request.objects.filter(
        status__in=OPEN_STATUSES, due_on__lte=today + timedelta(days=due_within_days)
    ).order_by("due_on")


def requests_with_running_pause() -> QuerySet[Request]:
    return Request.objects.filter(
        status__in=OPEN_STATUSES, pauses__ended_at__isnull=True
    ).distinct()


# --- tasks (the work in each store) ---------------------------------------------


def request_task_list(*, actor: Actor, request: Request) -> QuerySet[RequestTask]:
    """The tasks of one request, with their connector and attempts."""
    actor.require(Perm.REQUEST_VIEW)
    return (
        RequestTask.objects.filter(request=request)
        .select_related("connector")
        .prefetch_related("tries")
        .order_by("created_at", "pk")
    )


def request_task_get(*, actor: Actor, request: Request, public_id: str) -> RequestTask:
    """One task, looked up within its request only."""
    actor.require(Perm.REQUEST_VIEW)
    return RequestTask.objects.select_related("connector", "request").get(
        request=request, public_id=public_id
    )


def connector_task_list(
    *, actor: Actor, connector: Connector, limit: int = 20
) -> list[RequestTask]:
    """The latest tasks one connector was given, newest first."""
    actor.require(Perm.CONNECTORS_VIEW)
    actor.require(Perm.REQUEST_VIEW)
    return list(
        RequestTask.objects.filter(connector=connector)
        .select_related("request")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class RequestProgress:
    """How far the work in every store has got."""

    tasks_total: int
    tasks_done: int
    records_found: int
    records_changed: int

    @property
    def percent(self) -> int:
        if not self.tasks_total:
            return 0
        return round(100 * self.tasks_done / self.tasks_total)


def request_progress(*, tasks: Iterable[RequestTask]) -> RequestProgress:
    """Tasks finished out of all, and records found and changed so far.

    Verification passes count as tasks but not as records: what they find is
    what is left after erasure, not more of the subject's data."""
    total = done = found = changed = 0
    for task in tasks:
        total += 1
        done += task.status in TERMINAL_TASK_STATUSES
        if task.action != Action.VERIFY_ERASURE:
            found += task.records_found
            changed += task.records_changed
    return RequestProgress(
        tasks_total=total,
        tasks_done=done,
        records_found=found,
        records_changed=changed,
    )


@dataclass(frozen=True)
class RequestWork:
    """Where a request's work in the stores stands, stated so staff can trust
    it: `state` is one of

    - "not_started": not verified (or approved) yet, nothing planned;
    - "no_connector": in progress, no store enabled at all: by hand;
    - "no_store": in progress, stores enabled but none can do this action;
    - "unplanned": in progress, enabled stores that can do it have no task
      (`unplanned` names them): "send to the stores again" plans them;
    - "queued": tasks wait for the worker to pick them up (`queued` of them);
    - "working": tasks run or wait on a store or a person;
    - "all_done": every task has ended;
    - "closed": the request is closed.

    `unplanned` is filled whatever the state while the request is in
    progress (a store connected after the work started)."""

    state: str
    action: str
    unplanned: list[str]
    queued: int
    enabled_stores: int


def request_work(*, request: Request, tasks: list[RequestTask]) -> RequestWork:
    """Where the work of `request` (with its `tasks`) stands."""
    action = ACTIONS_FOR_KIND[request.kind]
    queued = sum(task.status == TaskStatus.PENDING for task in tasks)
    if request.status != RequestStatus.IN_PROGRESS:
        state = "not_started" if request.is_open else "closed"
        return RequestWork(state, action, [], queued, 0)
    unplanned = [store.name for store, _ in stores_unplanned(request)]
    enabled = Connector.objects.filter(enabled=True).count()
    if not tasks:
        if unplanned:
            state = "unplanned"
        else:
            state = "no_store" if enabled else "no_connector"
    elif all(task.status in TERMINAL_TASK_STATUSES for task in tasks):
        state = "all_done"
    elif queued:
        state = "queued"
    else:
        state = "working"
    return RequestWork(state, action, unplanned, queued, enabled)


def request_work_waiting() -> bool:
    """Whether request tasks are queued (and due) or running right now:
    background work (evidence packs) waits for them (evidence.tasks)."""
    return RequestTask.objects.filter(
        Q(status=TaskStatus.RUNNING)
        | Q(status=TaskStatus.PENDING, next_attempt_at__isnull=True),
        manual=False,
    ).exists()


# --- legal holds (erasure yields to them; retention places and lists them) -------


def hold_active_q(*, at: datetime | None = None) -> Q:
    """The holds in force at `at` (now by default): not released, started,
    not yet ended."""
    at = at or timezone.now()
    return Q(released_at__isnull=True, starts_at__lte=at) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )


def holds_active(*, at: datetime | None = None) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(hold_active_q(at=at)).select_related(
        "connector", "subject"
    )


def holds_covering(
    *, subject: DataSubject | None = None, connector: Connector | None = None
) -> list[LegalHold]:
    """Active holds that cover this subject's data in this connector: a hold
    on the subject, on the whole connector, or on one of its tables."""
    scope = Q()
    if subject is not None:
        scope |= Q(subject=subject)
    if connector is not None:
        scope |= Q(connector=connector)
    if not scope:
        return []
    return list(holds_active().filter(scope).order_by("starts_at", "pk"))


def holds_covering_exist() -> Exists:
    """For a RequestTask query: whether `holds_covering` would find any hold
    for the task's subject and connector (one subquery, no extra round trip)."""
    return Exists(
        LegalHold.objects.filter(hold_active_q()).filter(
            Q(subject_id=OuterRef("request__subject_id"))
            | Q(connector_id=OuterRef("connector_id"))
        )
    )


# --- names for the audit log (references, never a subject's identity) ----------


def request_references(*, public_ids: Iterable[str]) -> dict[str, str]:
    """Request public ids (as text) -> references, for those that exist."""
    ids = [value for value in public_ids if _is_uuid(value)]
    return {
        str(public_id): reference
        for public_id, reference in Request.objects.filter(
            public_id__in=ids
        ).values_list("public_id", "reference")
    }


@dataclass(frozen=True)
class TaskName:
    """How the audit log names a task: its request and its store."""

    request_public_id: str
    reference: str
    action: str
    store: str


def request_task_names(*, public_ids: Iterable[str]) -> dict[str, TaskName]:
    ids = [value for value in public_ids if _is_uuid(value)]
    rows = RequestTask.objects.filter(public_id__in=ids).values_list(
        "public_id",
        "request__public_id",
        "request__reference",
        "action",
        "connector__name",
    )
    return {
        str(pid): TaskName(str(request_pid), reference, action, store)
        for pid, request_pid, reference, action, store in rows
    }


def request_by_reference(*, actor: Actor, reference: str) -> Request | None:
    """The request with this reference (any case), or None."""
    actor.require(Perm.REQUEST_VIEW)
    return Request.objects.filter(reference__iexact=reference.strip()).first()


def request_audit_objects(*, request: Request) -> list[tuple[str, str]]:
    """The (object type, id) pairs of the audit events about a request: the
    request and its tasks."""
    pairs = [(Request._meta.label_lower, str(request.public_id))]
    pairs += [
        (RequestTask._meta.label_lower, str(public_id))
        for public_id in request.tasks.values_list("public_id", flat=True)
    ]
    return pairs


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- recipients told (Art. 19) -----------------------------------------------------


def recipient_notification_list(
    *, actor: Actor, request: Request
) -> QuerySet[RecipientNotification]:
    """The recipients told of this request's change, store by store."""
    actor.require(Perm.REQUEST_VIEW)
    return (
        RecipientNotification.objects.filter(request=request)
        .select_related("connector")
        .order_by("connector__name", "recipient_name", "pk")
    )


def recipient_notification_get(
    *, actor: Actor, request: Request, public_id: str
) -> RecipientNotification:
    """One notification of this request (DoesNotExist otherwise)."""
    return recipient_notification_list(actor=actor, request=request).get(
        public_id=public_id
    )


@dataclass(frozen=True)
class RecipientTold:
    """A recipient as the subject is told of it: who, and whether it was told."""

    name: str
    named: bool
    told: bool  # sent or done
    impossible: bool


def recipients_told(*, request: Request) -> list[RecipientTold]:
    """Who the subject's data went to and whether each was told of the
    change (GDPR 19, second sentence): for the subject's own status page and
    closing e-mail, the request already found by its token. One entry per
    recipient, however many stores name it; told wins over to-do."""
    by_name: dict[str, RecipientTold] = {}
    rows = RecipientNotification.objects.filter(request=request).order_by(
        "recipient_name", "pk"
    )
    for row in rows:
        told = row.status in (NotificationStatus.SENT, NotificationStatus.DONE)
        earlier = by_name.get(row.recipient_name)
        by_name[row.recipient_name] = RecipientTold(
            name=row.recipient_name,
            named=row.named,
            told=told or (earlier is not None and earlier.told),
            impossible=row.status == NotificationStatus.IMPOSSIBLE
            and (earlier is None or earlier.impossible),
        )
    return list(by_name.values())


def request_agent(*, request: Request) -> AgentAuthority | None:
    """The agent who filed the request and the state of their authority
    (CCPA-REG §7063); None when the consumer filed it."""
    return AgentAuthority.objects.filter(request=request).first()


def data_points_pending(*, request: Request) -> DataPointCheck | None:
    """The data-point step (CCPA-REG §7062) the requester has still to pass
    after the e-mail code, if any."""
    if request.status != RequestStatus.RECEIVED:
        return None
    return DataPointCheck.objects.filter(
        request=request, passed_at__isnull=True, email_confirmed_at__isnull=False
    ).first()


def data_point_check(*, request: Request) -> DataPointCheck | None:
    """The request's data-point verification, passed or not, if it had one."""
    return DataPointCheck.objects.filter(request=request).first()
