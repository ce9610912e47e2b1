from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from alerts.choices import (
    AlertRule,
    DeliveryChannel,
    DeliveryStatus,
    Severity,
    SubjectKind,
)


class Alert(models.Model):
    """One anomaly a rule found: who or what, how many, over which window."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule = models.CharField(max_length=40, choices=AlertRule.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    subject_kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    # "12" for user:12, a client's public id, a keyed hash, a request's
    # public id, or the first bad sequence number of the chain.
    subject = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # The most events seen within one window of the rule (distinct requests
    # for bulk downloads).
    count = models.PositiveIntegerField()
    details = models.JSONField(default=dict)  # ids and facts, never personal data
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_by_ref = models.CharField(max_length=100, blank=True)  # actor.ref
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["rule", "subject_kind", "subject"]),
            models.Index(fields=["acknowledged_at", "raised_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_kind}:{self.subject}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class AlertDelivery(models.Model):
    """One channel an alert is sent by, with its tries: e-mail or webhook."""

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel"], name="alerts_one_delivery_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} of alert {self.alert_id}: {self.status}"


class MonitorState(models.Model):
    """Where the rules stopped reading the audit chain, and the last check of
    the chain itself: one row."""

    last_sequence = models.BigIntegerField(default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    chain_checked_at = models.DateTimeField(null=True, blank=True)
    chain_ok = models.BooleanField(null=True)
    chain_events = models.BigIntegerField(default=0)
    chain_problem = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"alerts read up to #{self.last_sequence}"
