from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

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


def audit_event_list(*, actor: Actor) -> QuerySet[AuditEvent]:
    actor.require(Perm.AUDIT_VIEW)
    return AuditEvent.objects.all()


def audit_chain_head() -> AuditEvent | None:
    return AuditEvent.objects.order_by("-sequence").first()


def audit_chain_verify() -> ChainReport:
    return verify_chain(
        AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000)
    )
