"""Reads of requests, always scoped to who is asking."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import Action
from dsr.choices import (
    OPEN_STATUSES,
    TERMINAL_TASK_STATUSES,
    RequestStatus,
    TaskStatus,
)
from dsr.clock import local_today
from dsr.links import status_token_read
from dsr.models import LegalHold, Request, RequestTask
from privacydesk.errors import ValidationFailed
from subjects.models import DataSubject

if TYPE_CHECKING:
    from connectors.models import Connector


def request_list(
    *,
    actor: Actor,
    status: str | None = None,
    kind: str | None = None,
    regime: str | None = None,
    due_within_days: int | None = None,
    overdue: bool = False,
    search: str | None = None,
    awaiting_review: bool = False,
) -> QuerySet[Request]:
    actor.require(Perm.REQUEST_VIEW)
    qs = Request.objects.select_related("subject")
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
