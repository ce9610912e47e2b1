"""Reads of the training app: the exclusions feed and snapshot, datasets,
and the facts an evidence pack and the dashboard show."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from dsr.choices import RequestKind
from dsr.models import Request
from training.choices import ExclusionReason, ExclusionSource, KeyKind
from training.models import (
    Dataset,
    DatasetRebuild,
    ExclusionEntry,
    ExclusionKey,
    TrainingExclusion,
)

_KEYS = Prefetch("keys", queryset=ExclusionKey.objects.order_by("kind", "value"))


@dataclass(frozen=True)
class FeedPage:
    entries: list[ExclusionEntry]
    next_since: int
    has_more: bool


def exclusion_keys(exclusion: TrainingExclusion, kind: str) -> list[str]:
    """The prefetched keys of one kind (blind indexes or conversation ids)."""
    return [key.value for key in exclusion.keys.all() if key.kind == kind]


def exclusion_feed(*, actor: Actor, since: int, limit: int) -> FeedPage:
    """The feed's entries after cursor `since`, oldest first. Entries are
    committed in id order (services.exclusions), so following `next_since`
    misses and repeats nothing."""
    actor.require(Perm.TRAINING_VIEW)
    rows = list(
        ExclusionEntry.objects.filter(id__gt=since)
        .select_related("exclusion")
        .prefetch_related(Prefetch("exclusion__keys", queryset=_KEYS.queryset))
        .order_by("id")[: limit + 1]
    )
    entries = rows[:limit]
    return FeedPage(
        entries=entries,
        next_since=entries[-1].pk if entries else since,
        has_more=len(rows) > limit,
    )


def feed_cursor() -> int:
    """The newest entry's cursor (0 for an empty feed)."""
    return ExclusionEntry.objects.aggregate(top=Max("id"))["top"] or 0


def exclusions_active(*, actor: Actor) -> Iterator[TrainingExclusion]:
    """Every exclusion in force, oldest first, with its keys (for the export)."""
    actor.require(Perm.TRAINING_VIEW)
    queryset = (
        TrainingExclusion.objects.filter(lifted_at__isnull=True)
        .prefetch_related(_KEYS)
        .order_by("pk")
    )
    return queryset.iterator(chunk_size=500)


def exclusion_counts() -> dict[str, int]:
    """Exclusions in force per reason, and how many were lifted."""
    rows = TrainingExclusion.objects.aggregate(
        lifted=Count("pk", filter=Q(lifted_at__isnull=False)),
        **{
            reason.value: Count("pk", filter=Q(reason=reason, lifted_at__isnull=True))
            for reason in ExclusionReason
        },
    )
    rows["active"] = sum(rows[reason.value] for reason in ExclusionReason)
    return rows


def _datasets() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(rebuild_count=Count("rebuilds")).prefetch_related(
        Prefetch(
            "rebuilds",
            queryset=DatasetRebuild.objects.select_related("exclusion").order_by(
                "flagged_at", "pk"
            ),
        )
    )


def dataset_list(*, actor: Actor) -> QuerySet[Dataset]:
    """Every registered version, by name, newest version first."""
    actor.require(Perm.TRAINING_VIEW)
    return _datasets().order_by("name", "-created_at", "-pk")


def dataset_get(*, actor: Actor, public_id: uuid.UUID | str) -> Dataset:
    actor.require(Perm.TRAINING_VIEW)
    return _datasets().get(public_id=public_id)


def datasets_latest(*, names: list[str]) -> dict[str, int]:
    """The id of the newest registered version of each named dataset."""
    latest: dict[str, int] = {}
    rows = Dataset.objects.filter(name__in=names).order_by("name", "created_at", "pk")
    for name, pk in rows.values_list("name", "pk"):
        latest[name] = pk
    return latest


def training_pack_facts(*, request: Request) -> dict[str, Any] | None:
    """The "Training data" section of an erasure's or objection's evidence
    pack: the exclusion the request set off and each dataset version it
    marked for a rebuild. Counts and references only (no index)."""
    if request.kind not in (RequestKind.ERASURE, RequestKind.OBJECTION):
        return None
    exclusion = (
        TrainingExclusion.objects.filter(
            source_type=ExclusionSource.REQUEST, source_id=request.public_id
        )
        .prefetch_related(_KEYS)
        .first()
    )
    if exclusion is None:
        return {"exclusion": None, "datasets": []}
    entry = exclusion.entries.order_by("id").first()
    rebuilds = list(
        DatasetRebuild.objects.filter(exclusion=exclusion)
        .select_related("dataset")
        .order_by("dataset__name", "dataset__created_at", "pk")
    )
    latest = datasets_latest(names=[r.dataset.name for r in rebuilds])
    flagged = {rebuild.dataset_id for rebuild in rebuilds}
    return {
        "exclusion": {
            "id": str(exclusion.public_id),
            "reason": exclusion.reason,
            "excluded_at": exclusion.created_at.isoformat(),
            "cursor": entry.pk if entry else None,
            "blind_indexes": len(exclusion_keys(exclusion, KeyKind.BLIND_INDEX)),
            "conversations": len(exclusion_keys(exclusion, KeyKind.CONVERSATION_ID)),
            "lifted_at": exclusion.lifted_at.isoformat()
            if exclusion.lifted_at
            else None,
        },
        "datasets": [
            {
                "id": str(rebuild.dataset.public_id),
                "name": rebuild.dataset.name,
                "version": rebuild.dataset.version,
                "flagged_at": rebuild.flagged_at.isoformat(),
                # a newer version, registered since, without the subject
                "rebuilt": latest[rebuild.dataset.name] not in flagged,
            }
            for rebuild in rebuilds
        ],
    }
