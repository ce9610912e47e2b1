from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import Q, QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.chain import ChainReport, verify_chain
from audit.models import AuditEvent


def audit_object_types(model: type[models.Model]) -> tuple[str, ...]:
    """Every object type a model's events are stored under: its label now, and
    the labels it had before it moved between apps (`AUDIT_FORMER_LABELS` on
    the model), since the hash chain is never rewritten."""
    former: tuple[str, ...] = getattr(model, "AUDIT_FORMER_LABELS", ())
    return (model._meta.label_lower, *former)


def audit_events_for_object(*, obj: models.Model) -> QuerySet[AuditEvent]:
    public_id = getattr(obj, "public_id", None)
    return AuditEvent.objects.filter(
        object_type__in=audit_object_types(type(obj)),
        object_id=str(public_id if public_id is not None else obj.pk),
    )


def audit_event_list(
    *,
    actor: Actor,
    actor_ref: str | None = None,
    action: str | None = None,
    objects: Iterable[tuple[str, str]] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The audit log, narrowed: by who acted (`actor_ref` "user:12", or a
    kind ending in a colon, "system:"), by action ("request.closed", or a
    family ending in a dot, "request."), by the objects it touched ((type,
    id) pairs), and to `since` <= occurred_at < `before`."""
    actor.require(Perm.AUDIT_VIEW)
    events = AuditEvent.objects.all()
    if actor_ref:
        events = (
            events.filter(actor__startswith=actor_ref)
            if actor_ref.endswith(":")
            else events.filter(actor=actor_ref)
        )
    if action:
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if objects is not None:
        match = Q(pk__in=[])
        for object_type, object_id in objects:
            match |= Q(object_type=object_type, object_id=object_id)
        events = events.filter(match)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if before is not None:
        events = events.filter(occurred_at__lt=before)
    return events


def audit_actions() -> list[str]:
    """Every action the log holds, for a filter's choices."""
    return list(
        AuditEvent.objects.order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_actor_refs(*, leave_out: Iterable[str] = ()) -> list[str]:
    """Every actor ref the log holds, less those starting with a prefix in
    `leave_out` (a filter offers subjects and connectors by kind)."""
    events = AuditEvent.objects.all()
    for prefix in leave_out:
        events = events.exclude(actor__startswith=prefix)
    return list(events.order_by("actor").values_list("actor", flat=True).distinct())


def audit_chain_head() -> AuditEvent | None:
    return AuditEvent.objects.order_by("-sequence").first()


def audit_chain_verify() -> ChainReport:
    return verify_chain(
        AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000)
    )
