from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something that happened."""

    sequence = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=100)  # "user:12", "client:<uuid>", ...
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)  # ids and facts only, never personal data
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"
