"""Recording training exclusions and lifting them, in the feed's order.

Every write to the feed (`ExclusionEntry`) happens under one transaction-
level lock, so entry ids are handed out and committed in the same order: a
pipeline reading `since=<last id>` can never miss an entry committed after a
higher one. The lock is taken before the audit chain's (at the batch's end),
always in that order.
"""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.services import audit_batch, audit_record
from subjects.models import DataSubject
from subjects.selectors import subject_conversation_ids, subjects_identity
from training.choices import EntryAction, ExclusionReason, KeyKind
from training.keys import export_index
from training.models import ExclusionEntry, ExclusionKey, TrainingExclusion
from training.services.datasets import datasets_flag_for_exclusion

# Any fixed 64-bit number: the advisory lock that orders the feed.
_FEED_LOCK_KEY = 0x50_44_54_52_41_49_4E  # "PDTRAIN"


def _feed_lock() -> None:
    """Serialise feed writers until the transaction ends (PostgreSQL; SQLite
    serialises every writer already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FEED_LOCK_KEY])


def subject_exclusion_keys(*, subject: DataSubject) -> list[tuple[str, str]]:
    """What a pipeline can filter the subject by: the export index of each
    e-mail and phone, and each conversation recorded for them."""
    identity = subjects_identity(subject_ids=[subject.pk])
    indexes = {export_index("email", value) for value in identity.emails} | {
        export_index("phone", value) for value in identity.phones
    }
    keys = [(KeyKind.BLIND_INDEX.value, value) for value in sorted(indexes)]
    conversations = dict.fromkeys(subject_conversation_ids(subject_id=subject.pk))
    keys += [(KeyKind.CONVERSATION_ID.value, value) for value in conversations]
    return keys


def exclusion_record(
    *,
    actor: Actor,
    subject: DataSubject,
    reason: str,
    source_type: str,
    source_id: uuid.UUID,
) -> TrainingExclusion:
    """Exclude the subject from training because of this source (a request or
    a consent event), and flag every dataset that holds them.

    Safe to run twice: a source already recorded returns its exclusion; so
    does a consent withdrawal while one is still in force."""
    with transaction.atomic(), audit_batch():
        _feed_lock()
        earlier = TrainingExclusion.objects.filter(
            source_type=source_type, source_id=source_id
        ).first()
        if earlier is None and reason == ExclusionReason.CONSENT_WITHDRAWN:
            earlier = TrainingExclusion.objects.filter(
                subject=subject, reason=reason, lifted_at__isnull=True
            ).first()
        if earlier is not None:
            return earlier
        keys = subject_exclusion_keys(subject=subject)
        exclusion = TrainingExclusion.objects.create(
            subject=subject, reason=reason, source_type=source_type, source_id=source_id
        )
        ExclusionKey.objects.bulk_create(
            ExclusionKey(exclusion=exclusion, kind=kind, value=value)
            for kind, value in keys
        )
        entry = ExclusionEntry.objects.create(
            exclusion=exclusion, action=EntryAction.EXCLUDED
        )
        audit_record(
            actor=actor,
            action="training.excluded",
            obj=exclusion,
            data={
                "subject": str(subject.public_id),
                "reason": reason,
                "source_type": source_type,
                "source_id": str(source_id),
                "cursor": entry.pk,
                "blind_indexes": sum(k == KeyKind.BLIND_INDEX for k, _ in keys),
                "conversations": sum(k == KeyKind.CONVERSATION_ID for k, _ in keys),
            },
        )
        datasets_flag_for_exclusion(actor=actor, exclusion=exclusion, keys=keys)
    return exclusion


def exclusions_lift_for_consent(
    *, actor: Actor, subject: DataSubject, event_id: uuid.UUID
) -> list[TrainingExclusion]:
    """Model-training consent granted again: lift the subject's exclusions
    that rest on a withdrawal alone, each with a `lifted` feed entry.

    An erasure or objection exclusion is never lifted by a grant: the subject
    asked for more than a change of mind about one purpose. Datasets flagged
    stay flagged (they were built while the subject was excluded)."""
    lifted: list[TrainingExclusion] = []
    with transaction.atomic(), audit_batch():
        _feed_lock()
        active = TrainingExclusion.objects.select_for_update().filter(
            subject=subject,
            reason=ExclusionReason.CONSENT_WITHDRAWN,
            lifted_at__isnull=True,
        )
        now = timezone.now()
        for exclusion in active:
            exclusion.lifted_at = now
            exclusion.lifted_by = event_id
            exclusion.save(update_fields=["lifted_at", "lifted_by", "updated_at"])
            entry = ExclusionEntry.objects.create(
                exclusion=exclusion, action=EntryAction.LIFTED
            )
            audit_record(
                actor=actor,
                action="training.exclusion_lifted",
                obj=exclusion,
                data={
                    "subject": str(subject.public_id),
                    "consent_event": str(event_id),
                    "cursor": entry.pk,
                },
            )
            lifted.append(exclusion)
    return lifted
