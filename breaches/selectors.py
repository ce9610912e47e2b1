"""Reads of the breach register, checked against who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.models import AuditEvent
from audit.selectors import audit_events_for_object
from breaches.choices import BreachStatus
from breaches.clock import Clock, breach_clock
from breaches.models import Breach, BreachNotice


def breach_list(*, actor: Actor, status: str | None = None) -> QuerySet[Breach]:
    """The register, newest awareness first; `status` open or closed."""
    actor.require(Perm.BREACH_VIEW)
    breaches = Breach.objects.all()
    if status in BreachStatus.values:
        breaches = breaches.filter(status=status)
    return breaches


def breach_get(*, actor: Actor, public_id: Any, manage: bool = False) -> Breach:
    """One breach by its public id; `manage=True` for a caller about to
    change it (a write token need not also hold the read scope)."""
    actor.require(Perm.BREACH_MANAGE if manage else Perm.BREACH_VIEW)
    return Breach.objects.get(public_id=public_id)


def breach_notices(*, actor: Actor, breach: Breach) -> QuerySet[BreachNotice]:
    actor.require(Perm.BREACH_VIEW)
    return breach.notices.select_related("subject").order_by("created_at", "pk")


def breach_notice_get(*, actor: Actor, breach: Breach, public_id: Any) -> BreachNotice:
    actor.require(Perm.BREACH_MANAGE)
    return breach.notices.select_related("breach").get(public_id=public_id)


def breach_notice_counts(*, breach: Breach) -> dict[str, int]:
    counts = {"queued": 0, "sent": 0, "failed": 0}
    for status in breach.notices.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def breach_events(*, actor: Actor, breach: Breach) -> QuerySet[AuditEvent]:
    """The breach's audit events, oldest first: its timeline."""
    actor.require(Perm.BREACH_VIEW)
    return audit_events_for_object(obj=breach).order_by("sequence")


@dataclass(frozen=True)
class BreachRow:
    """A register line: the breach and its clock now."""

    breach: Breach
    clock: Clock


def breach_rows(
    breaches: QuerySet[Breach] | list[Breach], *, now: datetime | None = None
) -> list[BreachRow]:
    now = now or timezone.now()
    return [BreachRow(breach, breach_clock(breach, now=now)) for breach in breaches]


def breaches_needing_attention() -> int:
    """Open breaches whose clock runs with 48 hours or less left, or overdue."""
    now = timezone.now()
    return sum(
        1
        for row in breach_rows(
            Breach.objects.filter(
                status=BreachStatus.OPEN, authority_notified_at__isnull=True
            ),
            now=now,
        )
        if row.clock.running and row.clock.state != "running"
    )
