"""Shredding the masking vault: every entry of a subject when an erasure
starts, and conversations left idle."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from dsr.models import Request
from dsr.selectors import holds_active
from masking.models import VaultEntry
from masking.selectors import SHREDDED, subjects_of_request


@transaction.atomic
def vault_shred_for_request(*, actor: Actor, request: Request) -> int:
    """An erasure has started: delete every vault entry of its subject (and of
    any subject holding one of the identifiers the request claims), so tokens
    already in AI logs and vector stores point at nothing. A subject under a
    legal hold keeps its entries. One audit event on the request carries the
    count (the evidence pack reads it); returns the count."""
    actor.require(Perm.MASKING_SHRED)
    subject_ids = subjects_of_request(request=request)
    held = set(
        holds_active()
        .filter(subject_id__in=subject_ids)
        .values_list("subject_id", flat=True)
    )
    deleted, _ = VaultEntry.objects.filter(subject_id__in=subject_ids - held).delete()
    audit_record(
        actor=actor,
        action=SHREDDED,
        obj=request,
        data={"entries": deleted, "held": bool(held & subject_ids)},
    )
    return deleted


PURGE_BATCH = 1_000


def vault_purge_idle(*, actor: Actor, idle_days: int) -> int:
    """Forget vault entries unused for `idle_days` (the conversation is over;
    its tokens in old AI logs then point at nothing). Bounded batches by key,
    each in a short transaction with its audit event; safe to run twice."""
    actor.require(Perm.MASKING_SHRED)
    cutoff = timezone.now() - timedelta(days=idle_days)
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                VaultEntry.objects.filter(last_used_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not batch:
                return deleted
            count, _ = VaultEntry.objects.filter(
                pk__in=batch, last_used_at__lt=cutoff
            ).delete()
            audit_record(
                actor=actor,
                action="masking.vault_purged",
                obj=None,
                data={"entries": count, "idle_days": idle_days},
            )
        deleted += count
