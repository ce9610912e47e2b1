from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models

from breaches.choices import (
    AuthorityDecision,
    BreachStatus,
    NoticeChannel,
    NoticeStatus,
    RiskLevel,
    SubjectsDecision,
)
from privacydesk.fields import EncryptedTextField
from privacydesk.history import history as history_records

# Art. 33(1): "where feasible, not later than 72 hours after having become
# aware of it". Real hours: a period in hours never rolls to a working day.
NOTIFICATION_PERIOD = timedelta(hours=72)


class Breach(models.Model):
    """A personal data breach in the register (GDPR Art. 33(5))."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True)  # BR-2026-000001
    title = models.CharField(max_length=200)
    # The 72-hour clock runs from awareness, not from the breach itself.
    aware_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    # Art. 33(3)(a): the nature, categories and approximate numbers.
    description = models.TextField()
    data_categories = models.TextField(blank=True)
    subject_categories = models.TextField(blank=True)
    approx_subjects = models.PositiveIntegerField(null=True, blank=True)
    approx_records = models.PositiveIntegerField(null=True, blank=True)
    # Art. 33(3)(b): the DPO or another contact point.
    contact_point = models.CharField(max_length=300, blank=True)
    # Art. 33(3)(c) and (d).
    consequences = models.TextField(blank=True)
    measures = models.TextField(blank=True)
    risk = models.CharField(
        max_length=20, choices=RiskLevel.choices, default=RiskLevel.UNASSESSED
    )
    risk_reasons = models.TextField(blank=True)
    authority_decision = models.CharField(
        max_length=20,
        choices=AuthorityDecision.choices,
        default=AuthorityDecision.PENDING,
    )
    authority_decision_reasons = models.TextField(blank=True)
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    authority_reference = models.CharField(max_length=200, blank=True)
    # Art. 33(1): a notification after 72 hours gives the reasons for the delay.
    late_reason = models.TextField(blank=True)
    subjects_decision = models.CharField(
        max_length=30,
        choices=SubjectsDecision.choices,
        default=SubjectsDecision.PENDING,
    )
    subjects_decision_reasons = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=BreachStatus.choices, default=BreachStatus.OPEN
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the officers were warned of the clock (each threshold once).
    warned_48_at = models.DateTimeField(null=True, blank=True)
    warned_24_at = models.DateTimeField(null=True, blank=True)
    warned_overdue_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["-aware_at", "-pk"]
        verbose_name_plural = "breaches"
        indexes = [models.Index(fields=["status", "aware_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def notify_by(self) -> datetime:
        """Awareness plus 72 real hours."""
        return self.aware_at + NOTIFICATION_PERIOD

    @property
    def is_open(self) -> bool:
        return self.status == BreachStatus.OPEN


class BreachNotice(models.Model):
    """One Art. 34 communication to one data subject about a breach."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="notices")
    # The subject Privacy Desk knows under this address, if any.
    subject = models.ForeignKey(
        "subjects.DataSubject",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(
        max_length=10, choices=NoticeChannel.choices, default=NoticeChannel.EMAIL
    )
    # The address, encrypted, and its keyed blind index (as subjects keep
    # their identifiers): one notice per address and breach.
    address = EncryptedTextField()
    blind_index = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)  # never an address
    requested_by = models.CharField(max_length=100)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "channel", "blind_index"],
                name="one_breach_notice_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"notice {self.public_id}"

    @property
    def recipient_label(self) -> str:
        """Who it went to, without the address: the subject's pseudonym."""
        if self.subject is not None:
            return self.subject.pseudonym
        return f"ADDR-{self.blind_index[:10].upper()}"


class BreachPack(models.Model):
    """One evidence pack generated for a breach: the PDF, its digests and
    the chain head it was sealed against (the digest is on the chain too)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="packs")
    file = models.CharField(max_length=300)  # storage name
    size = models.PositiveBigIntegerField()
    pages = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    facts_sha256 = models.CharField(max_length=64)
    pdf_variant = models.CharField(max_length=20, blank=True)
    generated_at = models.DateTimeField()
    generated_by = models.CharField(max_length=100)
    chain_head_sequence = models.BigIntegerField()
    chain_head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-generated_at", "-pk"]

    def __str__(self) -> str:
        return f"breach pack {self.public_id}"

    @property
    def filename(self) -> str:
        return f"{self.breach.reference}-evidence.pdf"
