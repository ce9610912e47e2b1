from __future__ import annotations

import uuid

from django.db import models

from privacydesk.fields import EncryptedTextField
from privacydesk.history import history as history_records
from subjects.choices import IdentifierKind


# Both models moved here from dsr (issue 11) without moving their rows: the
# tables, and the identifiers' history table, keep their dsr names.
class DataSubject(models.Model):
    """A person whose data we hold, known only through encrypted identifiers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dsr_datasubject"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"subject {self.public_id}"

    @property
    def pseudonym(self) -> str:
        """A stable reference to show staff and evidence instead of a name."""
        return f"SUBJ-{self.public_id.hex[:10].upper()}"


class SubjectIdentifier(models.Model):
    """One identifier of a subject: encrypted value plus a keyed blind index."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="identifiers"
    )
    kind = models.CharField(max_length=20, choices=IdentifierKind.choices)
    namespace = models.CharField(
        max_length=50, blank=True
    )  # the system of a customer id
    value = EncryptedTextField()
    blind_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records(table_name="dsr_historicalsubjectidentifier")

    class Meta:
        db_table = "dsr_subjectidentifier"
        ordering = ["kind", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "namespace", "blind_index"], name="unique_identifier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.subject_id}"


class SubjectConversation(models.Model):
    """A conversation known to involve a subject (for training exclusions)."""

    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="conversations"
    )
    conversation_id = models.CharField(max_length=200)
    # Who told us: "dataset:<name>", "masking", ...
    source = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "conversation_id"],
                name="unique_subject_conversation",
            )
        ]
        indexes = [
            models.Index(fields=["conversation_id"], name="subject_conversation_idx")
        ]

    def __str__(self) -> str:
        return f"conversation of {self.subject_id}"
