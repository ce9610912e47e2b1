"""Training exclusions (who must stay out of model training, as a feed
pipelines follow) and the datasets pipelines register."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from subjects.models import DataSubject
from training.choices import EntryAction, ExclusionReason, ExclusionSource, KeyKind


class TrainingExclusion(models.Model):
    """A subject whose data must stay out of model training, and why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Kept when the subject row goes (an erased subject may be minimised):
    # the keys below are what pipelines need, not the subject.
    subject = models.ForeignKey(
        DataSubject, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=30, choices=ExclusionReason.choices)
    source_type = models.CharField(max_length=20, choices=ExclusionSource.choices)
    source_id = models.UUIDField()  # the request's or consent event's public id
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.UUIDField(null=True, blank=True)  # the re-grant's event id

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="unique_exclusion_source"
            )
        ]
        indexes = [
            models.Index(
                fields=["subject", "reason"],
                condition=Q(lifted_at__isnull=True),
                name="exclusion_active_idx",
            )
        ]

    def __str__(self) -> str:
        return f"exclusion {self.public_id} ({self.reason})"

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class ExclusionKey(models.Model):
    """One value a pipeline filters by: an export blind index or a conversation id."""

    exclusion = models.ForeignKey(
        TrainingExclusion, on_delete=models.CASCADE, related_name="keys"
    )
    kind = models.CharField(max_length=20, choices=KeyKind.choices)
    value = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["exclusion", "kind", "value"], name="unique_exclusion_key"
            )
        ]
        indexes = [models.Index(fields=["kind", "value"], name="exclusion_key_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.exclusion_id}"


class ExclusionEntry(models.Model):
    """One line of the exclusions feed; its id is the `since` cursor.

    Written under one lock (training.services.exclusions), so ids are
    committed in order and a reader never skips one committed late."""

    id = models.BigAutoField(primary_key=True)
    exclusion = models.ForeignKey(
        TrainingExclusion, on_delete=models.PROTECT, related_name="entries"
    )
    action = models.CharField(max_length=20, choices=EntryAction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"entry {self.pk}: {self.action}"


class Dataset(models.Model):
    """One version of a training dataset, registered by an ML pipeline."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    registered_by = models.CharField(max_length=100)  # actor ref
    conversation_count = models.PositiveIntegerField(default=0)
    blind_index_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], name="unique_dataset_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class DatasetMember(models.Model):
    """One conversation id or export blind index a dataset version holds."""

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="members"
    )
    kind = models.CharField(max_length=20, choices=KeyKind.choices)
    value = models.CharField(max_length=200)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["kind", "value"], name="dataset_member_idx")]

    def __str__(self) -> str:
        return f"{self.kind} in {self.dataset_id}"


class DatasetRebuild(models.Model):
    """A dataset version holding an excluded subject: rebuild it before the
    next training run (a newer version registered clears it for that one)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="rebuilds"
    )
    exclusion = models.ForeignKey(
        TrainingExclusion, on_delete=models.PROTECT, related_name="rebuilds"
    )
    flagged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-flagged_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "exclusion"], name="unique_dataset_rebuild"
            )
        ]

    def __str__(self) -> str:
        return f"rebuild {self.dataset_id} for {self.exclusion_id}"
