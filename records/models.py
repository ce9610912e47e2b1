from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from privacydesk.history import history as history_records
from records.choices import ExportFormat, RecipientRole


class ProcessingRecord(models.Model):
    """The officer's part of the records of processing: who the controller
    is, the security measures, the usual data subjects; one row (pk 1).

    `version` counts the changes to the officer's part (this row, the
    activities and the recipients below); each change is in history and
    on the audit chain, and every export cites the version it shows."""

    controller_name = models.CharField(max_length=200, blank=True)
    controller_address = models.TextField(blank=True)
    controller_contact = models.CharField(max_length=300, blank=True)
    # Art. 27: a controller outside the Union names a representative in it.
    representative = models.TextField(blank=True)
    joint_controllers = models.TextField(blank=True)
    dpo_name = models.CharField(max_length=200, blank=True)
    dpo_contact = models.CharField(max_length=300, blank=True)
    # Why no DPO is designated (Art. 37 does not require one), instead of one.
    dpo_not_designated_reason = models.CharField(max_length=300, blank=True)
    # Art. 30(1)(g) / 32(1): a general description of the measures.
    security_measures = models.TextField(blank=True)
    # Categories of data subjects every activity concerns unless it says more.
    subject_categories = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=0)
    changed_by = models.CharField(max_length=100, blank=True)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="one_processing_record")
        ]

    def __str__(self) -> str:
        return f"records of processing, version {self.version}"

    @property
    def public_id(self) -> str:
        """The audit log's object id: there is one record."""
        return "records-of-processing"


class Activity(models.Model):
    """A processing activity the officer describes: either more about a
    consent purpose (`purpose`), or one no connector or purpose shows (a
    mailing tool, the phone system), under its own `name`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.OneToOneField(
        "consent.Purpose",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=200, blank=True)
    data_categories = models.JSONField(default=list, blank=True)
    subject_categories = models.JSONField(default=list, blank=True)
    # When the data is erased, where no store's policy says (Art. 30(1)(f)).
    retention = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__isnull=False) | ~Q(name=""),
                name="activity_names_a_purpose_or_itself",
            )
        ]

    def __str__(self) -> str:
        return self.purpose.name if self.purpose is not None else self.name


class Recipient(models.Model):
    """A recipient or processor not attached to a connector (Art. 30(1)(d),
    (e)): for one activity, or every activity when `activity` is empty."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=RecipientRole.choices)
    description = models.TextField(blank=True)
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recipients",
    )
    country = models.CharField(max_length=100, blank=True)
    # Art. 46 / 45: SCCs, an adequacy decision, BCRs... "" while unknown.
    safeguards = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class RecordExport(models.Model):
    """One export of the record (PDF or CSV): the version it showed, its
    digest; the PDF is kept, so the very file sent can be produced again."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    format = models.CharField(max_length=5, choices=ExportFormat.choices)
    version = models.PositiveIntegerField()
    record_sha256 = models.CharField(max_length=64)  # of the record's content
    sha256 = models.CharField(max_length=64)  # of the file
    facts_sha256 = models.CharField(max_length=64, blank=True)  # PDF: embedded JSON
    size = models.PositiveBigIntegerField()
    file = models.CharField(max_length=300, blank=True)  # storage name (PDF)
    generated_at = models.DateTimeField()
    generated_by = models.CharField(max_length=100)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-generated_at", "-pk"]

    def __str__(self) -> str:
        return f"records export {self.public_id} ({self.format})"

    @property
    def filename(self) -> str:
        return f"records-of-processing-v{self.version}.{self.format}"
