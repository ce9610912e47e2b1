"""Datasets as records: a pipeline registers what a dataset version holds;
an exclusion flags every version holding its subject ("must be rebuilt")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from privacydesk.errors import IllegalTransition, ValidationFailed
from subjects.claims import identity_claims
from subjects.selectors import subject_find
from subjects.services import subject_conversations_record
from training.choices import KeyKind
from training.models import (
    Dataset,
    DatasetMember,
    DatasetRebuild,
    ExclusionKey,
    TrainingExclusion,
)


@dataclass(frozen=True)
class ConversationOwner:
    """A conversation in the dataset and the identity of the person in it."""

    conversation_id: str
    identity: dict[str, Any]


def _clean_ids(values: Sequence[str], field: str) -> list[str]:
    limit = settings.TRAINING_DATASET_MAX_IDS
    if len(values) > limit:
        raise ValidationFailed(f"at most {limit} entries", field=field)
    return list(dict.fromkeys(values))


def dataset_register(
    *,
    actor: Actor,
    name: str,
    version: str,
    conversation_ids: Sequence[str] = (),
    blind_indexes: Sequence[str] = (),
    conversation_owners: Sequence[ConversationOwner] = (),
) -> Dataset:
    """Record one version of a dataset and what it holds; flag it at once if
    it holds a subject already excluded (a rebuild that kept them is no
    rebuild). `conversation_owners` tells which known subject a conversation
    involves (recorded on the subject; a person unknown here is not
    recorded, and is matched later by the dataset's blind indexes)."""
    actor.require(Perm.TRAINING_MANAGE)
    conversations = _clean_ids(conversation_ids, "conversation_ids")
    indexes = _clean_ids(blind_indexes, "blind_indexes")
    if len(conversation_owners) > settings.TRAINING_DATASET_MAX_IDS:
        raise ValidationFailed(
            f"at most {settings.TRAINING_DATASET_MAX_IDS} entries",
            field="conversation_owners",
        )
    owners = [
        (
            owner.conversation_id,
            identity_claims(
                owner.identity, field=f"conversation_owners[{position}].identity"
            ),
        )
        for position, owner in enumerate(conversation_owners)
    ]
    with transaction.atomic(), audit_batch():
        if Dataset.objects.filter(name=name, version=version).exists():
            raise IllegalTransition(
                "this version of the dataset is registered already; register "
                "the rebuilt dataset as a new version"
            )
        dataset = Dataset.objects.create(
            name=name,
            version=version,
            registered_by=actor.ref,
            conversation_count=len(conversations),
            blind_index_count=len(indexes),
        )
        DatasetMember.objects.bulk_create(
            [
                *(
                    DatasetMember(
                        dataset=dataset, kind=KeyKind.CONVERSATION_ID, value=v
                    )
                    for v in conversations
                ),
                *(
                    DatasetMember(dataset=dataset, kind=KeyKind.BLIND_INDEX, value=v)
                    for v in indexes
                ),
            ],
            batch_size=2000,
        )
        owner_subjects = []
        for conversation_id, claims in owners:
            subject = subject_find(claims=claims)
            if subject is None:
                continue
            subject_conversations_record(
                subject_id=subject.pk,
                conversation_ids=[conversation_id],
                source=f"dataset:{name}"[:100],
            )
            owner_subjects.append(subject.pk)
        audit_record(
            actor=actor,
            action="training.dataset_registered",
            obj=dataset,
            data={
                "name": name,
                "version": version,
                "conversations": len(conversations),
                "blind_indexes": len(indexes),
                "owners_known": len(owner_subjects),
            },
        )
        held = ExclusionKey.objects.filter(
            Q(
                kind=KeyKind.CONVERSATION_ID,
                value__in=DatasetMember.objects.filter(
                    dataset=dataset, kind=KeyKind.CONVERSATION_ID
                ).values("value"),
            )
            | Q(
                kind=KeyKind.BLIND_INDEX,
                value__in=DatasetMember.objects.filter(
                    dataset=dataset, kind=KeyKind.BLIND_INDEX
                ).values("value"),
            ),
            exclusion__lifted_at__isnull=True,
        ).values("exclusion_id")
        excluded = TrainingExclusion.objects.filter(
            Q(pk__in=held) | Q(subject_id__in=owner_subjects, lifted_at__isnull=True)
        )
        for exclusion in excluded.order_by("pk"):
            _flag(actor, dataset, exclusion)
    return dataset


def datasets_flag_for_exclusion(
    *, actor: Actor, exclusion: TrainingExclusion, keys: Iterable[tuple[str, str]]
) -> list[DatasetRebuild]:
    """Flag every registered dataset version holding one of the exclusion's
    keys (in the caller's transaction)."""
    match = Q(pk__in=[])
    for kind in (KeyKind.BLIND_INDEX, KeyKind.CONVERSATION_ID):
        values = [value for key_kind, value in keys if key_kind == kind]
        if values:
            match |= Q(kind=kind, value__in=values)
    holding = DatasetMember.objects.filter(match).values("dataset_id")
    return [
        _flag(actor, dataset, exclusion)
        for dataset in Dataset.objects.filter(pk__in=holding).order_by("pk")
    ]


def _flag(
    actor: Actor, dataset: Dataset, exclusion: TrainingExclusion
) -> DatasetRebuild:
    rebuild, created = DatasetRebuild.objects.get_or_create(
        dataset=dataset, exclusion=exclusion
    )
    if created:
        audit_record(
            actor=actor,
            action="training.dataset_must_rebuild",
            obj=dataset,
            data={
                "name": dataset.name,
                "version": dataset.version,
                "exclusion": str(exclusion.public_id),
                "reason": exclusion.reason,
            },
        )
    return rebuild
