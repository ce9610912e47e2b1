"""Reads of the officer's part, for the pages that change it: each checked
against who asks."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.models import AuditEvent
from consent.models import Purpose
from records.models import Activity, Recipient, RecordExport
from records.pack import EXPORT_ACTIONS, record_change_types


def _require(actor: Actor, manage: bool) -> None:
    actor.require(Perm.GOVERNANCE_MANAGE if manage else Perm.GOVERNANCE_VIEW)


def activity_list(*, actor: Actor) -> QuerySet[Activity]:
    _require(actor, False)
    return Activity.objects.select_related("purpose")


def activity_get(*, actor: Actor, public_id: str, manage: bool = False) -> Activity:
    """One activity by its public id; raises Activity.DoesNotExist."""
    _require(actor, manage)
    return Activity.objects.select_related("purpose").get(public_id=public_id)


def recipient_list(*, actor: Actor) -> QuerySet[Recipient]:
    _require(actor, False)
    return Recipient.objects.select_related("activity__purpose")


def recipient_get(*, actor: Actor, public_id: str, manage: bool = False) -> Recipient:
    """One recipient by its public id; raises Recipient.DoesNotExist."""
    _require(actor, manage)
    return Recipient.objects.select_related("activity__purpose").get(
        public_id=public_id
    )


def purposes_undescribed(
    *, actor: Actor, keep: Purpose | None = None
) -> QuerySet[Purpose]:
    """Consent purposes no activity describes yet (and `keep`, the one an
    activity being edited describes)."""
    _require(actor, True)
    taken = Activity.objects.filter(purpose__isnull=False)
    if keep is not None:
        taken = taken.exclude(purpose=keep)
    return Purpose.objects.exclude(pk__in=taken.values("purpose_id")).order_by("name")


def record_changes(*, actor: Actor) -> QuerySet[AuditEvent]:
    """The audit events of changes to the officer's part, newest first."""
    _require(actor, False)
    return (
        AuditEvent.objects.filter(object_type__in=record_change_types())
        .exclude(action__in=EXPORT_ACTIONS)
        .order_by("-sequence")
    )


def export_list(*, actor: Actor) -> QuerySet[RecordExport]:
    _require(actor, False)
    return RecordExport.objects.all()
