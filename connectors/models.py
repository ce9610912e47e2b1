from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial

from django.db import models, transaction

from accounts.actors import actor_system
from audit.services import audit_record
from connectors.base import ConnectorKind
from connectors.choices import DiscoveryKind, DiscoveryStatus, Health
from connectors.registry import kind_class, kind_label
from privacydesk.fields import EncryptedJSONField, EncryptedTextField
from privacydesk.history import history as history_records


class Connector(models.Model):
    """One configured support-data store that requests fan out to."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.SlugField(max_length=60, unique=True)
    # One of connectors.registry's kinds (checked there, on every write).
    kind = models.CharField(max_length=40)
    config = models.JSONField(default=dict)  # validated by the kind; no secrets here
    secrets = EncryptedJSONField(null=True, blank=True)  # write-only through the API
    data_categories = models.JSONField(
        default=list
    )  # e.g. ["contact", "ai_conversation"]
    # What the subject is told about this store (GDPR 15(1)(a)-(h)):
    # {"purposes": [...], "recipients": [...], "retention": "...", "source": "...",
    #  "automated_decision_making": "..."}
    disclosure = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    health = models.CharField(
        max_length=10, choices=Health.choices, default=Health.UNKNOWN
    )
    health_detail = models.CharField(max_length=300, blank=True)
    # Warnings of the last check that leave the store healthy (a missing
    # index): [{"message": ..., "fix": ...}]; never a subject's data.
    health_warnings = models.JSONField(default=list, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def instance(self) -> ConnectorKind:
        """The kind's implementation, configured for this store; secrets the
        store replaces while it runs (a rotated OAuth2 refresh token) are
        kept with this row (`connector_secrets_keep`)."""
        return kind_class(self.kind)(
            name=self.name,
            config=self.config,
            secrets=self.secrets or {},
            keep_secrets=partial(connector_secrets_keep, connector_pk=self.pk),
        )


class Discovery(models.Model):
    """One scan of an SQL store: a discovery that proposes a map, or the
    daily re-scan of a connector that flags personal columns its map lacks.

    Holds classifications and counts only, never a sampled value. The DSN a
    discovery was given is a secret (it may hold the password): encrypted,
    never shown again, and blanked once the proposal is saved."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        max_length=10, choices=DiscoveryKind.choices, default=DiscoveryKind.SCAN
    )
    status = models.CharField(
        max_length=10, choices=DiscoveryStatus.choices, default=DiscoveryStatus.QUEUED
    )
    # The connector re-scanned, or the one a saved proposal became.
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="discoveries",
    )
    dsn = EncryptedTextField(blank=True)
    started_by = models.CharField(max_length=150)  # an actor's ref, never a subject
    tables_total = models.PositiveIntegerField(default=0)
    tables_done = models.PositiveIntegerField(default=0)
    # {"tables": [...]}: see connectors.discovery.proposal.
    proposal = models.JSONField(default=dict, blank=True)
    # Re-scans: [{"table", "column", "category", "reason"}] not in the map.
    flagged = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "discoveries"

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"


def connector_secrets_keep(changed: Mapping[str, str], /, *, connector_pk: int) -> None:
    """Store secrets a connector's store replaced while it ran (a rotated
    OAuth2 refresh token: the old one may no longer work), merged into the
    row's encrypted secrets and committed at once, whatever becomes of the
    task. Audited by secret name, never a value.

    A write that lives here, not in services: `Connector.instance()` hands
    it to the kind, and services import this module."""
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector_pk)
        current = dict(connector.secrets or {})
        names = sorted(k for k, v in changed.items() if v and current.get(k) != v)
        if not names:
            return
        current.update({k: changed[k] for k in names})
        connector.secrets = current
        connector.save(update_fields=["secrets", "updated_at"])
        audit_record(
            actor=actor_system("connectors"),
            action="connector.secrets_rotated",
            obj=connector,
            data={"name": connector.name, "secrets_changed": names},
        )
