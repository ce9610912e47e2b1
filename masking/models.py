from __future__ import annotations

import uuid

from django.db import models

from privacydesk.fields import EncryptedTextField
from subjects.models import DataSubject


class VaultEntry(models.Model):
    """One token of a masked conversation and, when reversible, its value.

    `<ENTITY_number>` stands for one value within one subject's conversation;
    `value_hash` (keyed, scoped to the subject and conversation) finds it
    again without decrypting anything. `value` is empty when the caller did
    not ask for a reversible mapping: the token stays stable, nothing can be
    restored. Erasing the subject deletes every entry (crypto-shredding).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: both unique constraints lead with it, and serve
    # every lookup by subject (a shred, the cascade); one index less to
    # write for each new entry.
    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.CASCADE,
        related_name="vault_entries",
        db_index=False,
    )
    conversation_id = models.CharField(max_length=100)
    entity = models.CharField(max_length=30)
    number = models.PositiveIntegerField()
    value_hash = models.CharField(max_length=64)
    value = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField()

    class Meta:
        ordering = ["subject_id", "conversation_id", "entity", "number"]
        verbose_name_plural = "vault entries"
        constraints = [
            # Two calls racing in one conversation cannot give one number to
            # two values, nor two numbers to one value (masking.services).
            models.UniqueConstraint(
                fields=["subject", "conversation_id", "entity", "number"],
                name="masking_unique_token",
            ),
            models.UniqueConstraint(
                fields=["subject", "conversation_id", "value_hash"],
                name="masking_unique_value",
            ),
        ]

    def __str__(self) -> str:
        return f"<{self.entity}_{self.number}> of {self.subject_id}"

    @property
    def token(self) -> str:
        return f"<{self.entity}_{self.number}>"
