from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from consent.choices import (
    AssessmentStatus,
    AttemptOutcome,
    ConsentAction,
    ConsentChannel,
    ConsentStatus,
    LegalBasis,
    PropagationStatus,
)
from privacydesk.fields import EncryptedTextField


class Purpose(models.Model):
    """Something a subject's data may be used for, and the basis it rests on."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(help_text="Plain language, shown to customers.")
    legal_basis = models.CharField(
        max_length=30, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    # CCPA: a "sale" or "sharing" (cross-context behavioural advertising) that
    # a Global Privacy Control signal opts the subject out of.
    is_sale_or_sharing = models.BooleanField(default=False)
    # CCPA 1798.121: uses sensitive personal information beyond what the
    # regulations permit (Cal. Code Regs. tit. 11 7027(m)), so the "Limit the
    # Use of My Sensitive Personal Information" link withdraws it.
    uses_sensitive_pi = models.BooleanField(default=False)
    default_granted = models.BooleanField(default=False)
    # A withdrawal is pushed to the connectors linked to this purpose.
    propagate = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class PolicyVersion(models.Model):
    """The exact wording shown for one purpose; fixed once published."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.CharField(max_length=30)  # a label such as "2026-10"
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    effective_at = models.DateTimeField()
    # A material change needs fresh consent: existing grants need renewal.
    material = models.BooleanField(default=False)
    published_by = models.CharField(max_length=100)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose_id", "-effective_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="unique_policy_version_label"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id}@{self.version}"


class ConsentEvent(models.Model):
    """One grant or withdrawal as the subject expressed it; never changed.

    Append-only: the application has no update or delete path, and on
    PostgreSQL a trigger refuses both (migration 0003).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # db_index off: the composite index below leads with the subject.
    subject = models.ForeignKey(
        "subjects.DataSubject",
        on_delete=models.PROTECT,
        related_name="consent_events",
        db_index=False,
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=ConsentChannel.choices)
    source_system = models.CharField(max_length=50, blank=True)
    occurred_at = models.DateTimeField()  # when the subject acted
    recorded_by = models.CharField(max_length=100)  # actor ref
    # {user_agent, ip_hash, ip_source, gpc, ai_disclosure_version, ui_element}:
    # the IP only ever as a keyed hash.
    evidence = models.JSONField(default=dict, blank=True)
    # Unique per caller (`idempotency_scope` is the actor ref), so two
    # integrations cannot collide and a retried call records nothing twice.
    idempotency_scope = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)  # when we recorded it

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(
                fields=["subject", "purpose", "occurred_at"],
                name="consent_event_subject_idx",
            ),
            models.Index(fields=["occurred_at"], name="consent_event_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="unique_consent_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.purpose_id} ({self.public_id})"


class ConsentState(models.Model):
    """The current answer per subject and purpose, derived from the events."""

    subject = models.ForeignKey(
        "subjects.DataSubject",
        on_delete=models.PROTECT,
        related_name="consent_states",
        db_index=False,  # the unique constraint leads with the subject
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    granted = models.BooleanField()  # the last applied event was a grant
    state = models.CharField(max_length=20, choices=ConsentStatus.choices)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="+"
    )
    since = models.DateTimeField()  # occurred_at of the last applied event
    last_event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subject_id", "purpose_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "purpose"], name="unique_consent_state"
            )
        ]
        indexes = [
            models.Index(fields=["purpose", "state"], name="consent_state_purpose_idx")
        ]

    def __str__(self) -> str:
        return f"{self.subject_id}/{self.purpose_id}: {self.state}"


class ErasureAssessment(models.Model):
    """A withdrawal removed the only basis for a purpose: should data go?

    Opened for staff (GDPR 17(1)(b)); never files an erasure by itself.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(
        "subjects.DataSubject", on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.OPEN
    )
    note = models.TextField(blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "purpose"],
                condition=Q(status="open"),
                name="one_open_erasure_assessment",
            )
        ]

    def __str__(self) -> str:
        return f"erasure assessment {self.public_id} ({self.status})"


class PurposeConnector(models.Model):
    """A connector that honours a purpose, and what to do there on withdrawal.

    `action` for sql connectors names a table of the connector's map, e.g.
    {"set": {"table": "customers", "column": "ai_training_opt_out", "value": true}}
    or {"delete": {"table": "training_examples"}}; for http and pull
    connectors it is a free-form object sent with the job as `instructions`.
    """

    purpose = models.ForeignKey(
        Purpose, on_delete=models.CASCADE, related_name="connector_links"
    )
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="+"
    )
    action = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "connector"], name="unique_purpose_connector"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id} -> {self.connector_id}"


class ConsentPropagation(models.Model):
    """One withdrawal pushed to one connector: a row per job, like RequestTask."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, related_name="propagations"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.PROTECT, related_name="+"
    )
    # The link's action as it was when planned: what this job does and did.
    action = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12,
        choices=PropagationStatus.choices,
        default=PropagationStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    records_changed = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What the connector said: why it waits, or the note sent with its result.
    status_note = models.CharField(max_length=500, blank=True)
    # The webhook's own name for a job it accepted with 202.
    deferred_reference = models.CharField(max_length=200, blank=True)
    # The pull agent (ApiClient public id) holding the job, and until when.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "connector"], name="unique_propagation_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="consent_prop_idx")
        ]

    def __str__(self) -> str:
        return f"propagation {self.public_id} ({self.status})"


class PropagationAttempt(models.Model):
    """One call to a store (or one agent's claim) for a propagation."""

    propagation = models.ForeignKey(
        ConsentPropagation, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=AttemptOutcome.choices, blank=True
    )
    error = models.TextField(blank=True)
    # Who made the call: a worker host or "agent <client name>".
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["propagation_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.propagation_id}"


class ChoicesCode(models.Model):
    """A code e-mailed to whoever asks for the privacy-choices page, with no
    request needed: typing it proves the mailbox, then opens that address's
    consent page. The address is kept encrypted, for as long as the code
    lives, to find or record its subject once the code matches; only a keyed
    hash of the code is stored (privacydesk.onetime_codes)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = EncryptedTextField()
    email_index = models.CharField(max_length=64, db_index=True)  # blind index
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"choices code {self.public_id}"
