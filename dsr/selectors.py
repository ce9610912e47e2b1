"""Reads of requests, always scoped to who is asking."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from dsr.choices import OPEN_STATUSES
from dsr.clock import local_today
from dsr.links import status_token_read
from dsr.models import Request
from privacydesk.errors import ValidationFailed


def request_list(
    *,
    actor: Actor,
    status: str | None = None,
    kind: str | None = None,
    regime: str | None = None,
    due_within_days: int | None = None,
    overdue: bool = False,
    search: str | None = None,
) -> QuerySet[Request]:
    actor.require(Perm.REQUEST_VIEW)
    qs = Request.objects.select_related("subject")
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
