from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from evidence.choices import EvidenceKind


class EvidencePack(models.Model):
    """One generated evidence PDF: what it covers, its digest, the chain head.

    The PDF's SHA-256 is also written to the audit chain, so a pack can be
    proven to be ours. An internal copy (with identifiers) is recorded but
    never stored: it is streamed once to the privacy officer who asked."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    request = models.ForeignKey(
        "dsr.Request",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_packs",
    )
    purge_run = models.ForeignKey(
        "retention.PurgeRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_packs",
    )
    internal = models.BooleanField(default=False)  # carries personal data
    file = models.CharField(max_length=300, blank=True)  # storage name; "" if internal
    size = models.PositiveBigIntegerField()
    pages = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)  # of the PDF file
    facts_sha256 = models.CharField(max_length=64)  # of the embedded JSON's facts
    pdf_variant = models.CharField(max_length=20, blank=True)
    generated_at = models.DateTimeField()
    generated_by = models.CharField(max_length=100)  # actor ref
    chain_head_sequence = models.BigIntegerField()
    chain_head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-generated_at", "-pk"]
        indexes = [models.Index(fields=["sha256"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="request", request__isnull=False, purge_run__isnull=True)
                    | Q(kind="purge_run", purge_run__isnull=False, request__isnull=True)
                ),
                name="evidence_pack_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"evidence pack {self.public_id}"

    @property
    def filename(self) -> str:
        """The name a browser saves it as: references only."""
        if self.request is not None:
            base = self.request.reference
        else:
            # evidence_pack_one_subject: a pack without a request has a run.
            assert self.purge_run is not None
            base = f"purge-run-{str(self.purge_run.public_id)[:8]}"
        suffix = "-INTERNAL" if self.internal else ""
        return f"{base}-evidence{suffix}.pdf"
