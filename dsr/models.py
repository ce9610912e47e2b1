from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dsr.choices import (
    AttemptOutcome,
    ChallengePurpose,
    Channel,
    DenialBasis,
    HoldScope,
    NotificationStatus,
    NotifyMethod,
    PackageKind,
    PauseReason,
    Regime,
    RequestKind,
    RequestStatus,
    TaskStatus,
    VerificationMethod,
)
from privacydesk.fields import EncryptedJSONField, EncryptedTextField
from privacydesk.history import history as history_records
from subjects.models import DataSubject


class Request(models.Model):
    """A data-subject request and its legal clock."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, related_name="requests"
    )
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    regime = models.CharField(max_length=10, choices=Regime.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    # What the requester claimed and asked for: personal data, so encrypted.
    identity = EncryptedJSONField()
    details = EncryptedTextField(blank=True)
    corrections = EncryptedJSONField(null=True, blank=True)

    received_at = models.DateTimeField()
    clock_start_on = models.DateField()
    due_on = models.DateField()
    standard_due_on = models.DateField()
    extension_notice_by = models.DateField()
    acknowledge_by = models.DateField(null=True, blank=True)

    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)

    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(
        max_length=20, choices=VerificationMethod.choices, blank=True
    )
    verified_by = models.CharField(max_length=100, blank=True)  # actor ref that vouched

    requires_approval = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=100, blank=True)
    # Review steps (issue 16), fixed at intake from the settings: an officer
    # reviews the request before its erasure (or other change) runs
    # (REVIEW_BEFORE_ERASURE; it then requires approval, with a note), and
    # releases its access package before the subject is told of it
    # (REVIEW_BEFORE_ACCESS_RELEASE).
    review_before_work = models.BooleanField(default=False)
    review_before_release = models.BooleanField(default=False)

    status_reason = models.TextField(blank=True)  # why rejected / cancelled / closed so
    # A rejection's ground, as CCPA metrics count denials (§7102(a)(2)).
    denial_basis = models.CharField(
        max_length=20, choices=DenialBasis.choices, blank=True
    )
    # The staff member working the request (the queue's "mine").
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["due_on", "received_at"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in (
            RequestStatus.RECEIVED,
            RequestStatus.VERIFIED,
            RequestStatus.IN_PROGRESS,
        )

    @property
    def is_extended(self) -> bool:
        return self.extended_at is not None


class ClockPause(models.Model):
    """A period the legal clock stood still (or restarted), as the regime allows."""

    request = models.ForeignKey(
        Request, on_delete=models.CASCADE, related_name="pauses"
    )
    reason = models.CharField(max_length=20, choices=PauseReason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.reason} pause of {self.request_id}"


class RequestNote(models.Model):
    """A staff note on a request (may mention the subject, so encrypted)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="notes")
    author = models.CharField(max_length=100)  # actor ref
    author_label = models.CharField(max_length=150)
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.request_id}"


class VerificationChallenge(models.Model):
    """A one-time code e-mailed to the requester; only its hash is stored."""

    request = models.ForeignKey(
        Request, on_delete=models.CASCADE, related_name="challenges"
    )
    purpose = models.CharField(
        max_length=10, choices=ChallengePurpose.choices, default=ChallengePurpose.VERIFY
    )
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"challenge for {self.request_id}"


class RequestTask(models.Model):
    """One action of one request in one connector: the unit of fan-out."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="tasks")
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.PROTECT, related_name="tasks"
    )
    action = models.CharField(max_length=20)  # connectors.choices.Action
    manual = models.BooleanField(default=False)  # the store cannot do it: a human will
    status = models.CharField(
        max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # connector messages never hold PII
    records_found = models.PositiveIntegerField(default=0)
    records_changed = models.PositiveIntegerField(default=0)
    per_location = models.JSONField(default=dict, blank=True)
    exemptions = models.JSONField(default=list, blank=True)
    result_file = models.CharField(max_length=300, blank=True)  # storage name
    result_digest = models.CharField(max_length=64, blank=True)  # sha256
    deferred_reference = models.CharField(max_length=200, blank=True)
    # Pull agents: who holds the job, and until when.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    status_note = models.TextField(blank=True)  # staff skip reason, manual note
    # An erase task's receipt (connectors.base.ErasureReceipt.to_json): what
    # the erasure knew of the subject, read back by the queued verification
    # pass. It holds personal data (a name), so it is encrypted, and
    # self-minimisation clears it.
    erasure_receipt = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "connector", "action"], name="one_task_per_action"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.action} in {self.connector_id} for {self.request_id}"


class TaskAttempt(models.Model):
    """One try of a RequestTask: our accountability trail."""

    task = models.ForeignKey(
        RequestTask, on_delete=models.CASCADE, related_name="tries"
    )
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=AttemptOutcome.choices, blank=True
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.task_id}"


class LegalHold(models.Model):
    """Data that must not be deleted: a subject's, a connector's or a table's."""

    # Audit events of holds placed before the move name the old app.
    AUDIT_FORMER_LABELS: ClassVar[tuple[str, ...]] = ("retention.legalhold",)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    connector = models.ForeignKey(
        "connectors.Connector",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    table = models.CharField(max_length=63, blank=True)
    reason = models.TextField()
    legal_basis = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    placed_by = models.CharField(max_length=100)  # actor ref
    placed_by_label = models.CharField(max_length=150)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=100, blank=True)
    released_by_label = models.CharField(max_length=150, blank=True)
    release_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Moved here from retention (issue 11): erasure honours holds, and
        # dsr may not import retention. The table keeps its retention name.
        db_table = "retention_legalhold"
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(subject__isnull=False, connector__isnull=True, table="")
                    | Q(subject__isnull=True, connector__isnull=False)
                ),
                name="legal_hold_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"legal hold {self.public_id}"

    @property
    def scope(self) -> str:
        if self.subject_id is not None:
            return HoldScope.SUBJECT
        return HoldScope.TABLE if self.table else HoldScope.CONNECTOR

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.released_at is None
            and self.starts_at <= at
            and (self.ends_at is None or self.ends_at > at)
        )


class AccessPackage(models.Model):
    """The ZIP answering one access or portability request, and its downloads."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.OneToOneField(
        Request, on_delete=models.PROTECT, related_name="access_package"
    )
    kind = models.CharField(max_length=20, choices=PackageKind.choices)
    file = models.CharField(max_length=300, blank=True)  # storage name; "" once purged
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # [{"name": "data.json", "size": 1234, "compressed_size": 321}, ...]
    contents = models.JSONField(default=list)
    record_count = models.PositiveIntegerField(default=0)
    # The letter (letter.html in the ZIP) as a PDF, rendered the first time
    # someone asks for it and kept with the ZIP: storage name, "" until then.
    letter_file = models.CharField(max_length=300, blank=True)
    letter_sha256 = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    purged_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    # Held for an officer's review (REVIEW_BEFORE_ACCESS_RELEASE): no code,
    # no link, no e-mail to the subject until it is released.
    held = models.BooleanField(default=False)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=100, blank=True)  # actor ref
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table it had when the evidence app owned it (it moved here).
        db_table = "evidence_accesspackage"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"access package {self.public_id}"

    @property
    def filename(self) -> str:
        """What the subject's browser saves it as: the reference, no name."""
        return f"{self.request.reference}-access-package.zip"

    @property
    def letter_filename(self) -> str:
        return f"{self.request.reference}-letter.pdf"


class RecipientNotification(models.Model):
    """One recipient told of a rectification, erasure or restriction (Art. 19)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        Request, on_delete=models.CASCADE, related_name="recipient_notifications"
    )
    # The store whose disclosure names the recipient.
    connector = models.ForeignKey(
        "connectors.Connector",
        on_delete=models.PROTECT,
        related_name="recipient_notifications",
    )
    # A company (or a category of them) from the store's disclosure: not the
    # subject's data.
    recipient_name = models.CharField(max_length=300)
    recipient_role = models.CharField(max_length=100, blank=True)
    named = models.BooleanField(default=True)  # False: only a category is known
    method = models.CharField(max_length=10, choices=NotifyMethod.choices)
    contact = models.CharField(max_length=254, blank=True)  # e-mail method only
    status = models.CharField(
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    status_at = models.DateTimeField(null=True, blank=True)
    status_by = models.CharField(max_length=100, blank=True)  # actor ref
    # Why telling it is impossible or disproportionate (required then), or
    # what the officer did.
    justification = models.TextField(blank=True)
    note = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)  # e-mails tried
    last_error = models.CharField(max_length=300, blank=True)  # never an address
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "connector", "recipient_name"],
                name="one_notification_per_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"notification of {self.recipient_name} for {self.request_id}"


class AgentAuthority(models.Model):
    """A request filed by an authorised agent (CCPA-REG §7063, REQUIREMENTS
    B16): who the agent is, the written authority, and the consumer's own
    confirmation. The request is not verified until both are recorded."""

    request = models.OneToOneField(
        Request, on_delete=models.CASCADE, related_name="agent_authority"
    )
    # The agent's name and address are personal data: encrypted.
    agent_name = EncryptedTextField()
    agent_contact = EncryptedTextField()
    power_of_attorney = models.BooleanField(default=False)
    # The signed permission: stored while it is checked, then deleted (as
    # an identity document, B14); its digest and size stay as the proof.
    permission_file = models.CharField(max_length=300, blank=True)
    permission_sha256 = models.CharField(max_length=64, blank=True)
    permission_size = models.PositiveIntegerField(default=0)
    permission_deleted_at = models.DateTimeField(null=True, blank=True)
    authority_recorded_at = models.DateTimeField(null=True, blank=True)
    authority_recorded_by = models.CharField(max_length=100, blank=True)
    consumer_confirmed_at = models.DateTimeField(null=True, blank=True)
    consumer_confirmed_method = models.CharField(
        max_length=20, choices=VerificationMethod.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"agent authority of {self.request_id}"

    @property
    def authority_recorded(self) -> bool:
        return self.authority_recorded_at is not None


class DataPointCheck(models.Model):
    """A CCPA non-account holder's verification by data points (CCPA-REG
    §7062, REQUIREMENTS B15): what was required, and of the last attempt
    how many points matched of how many given and of which kinds. Never a
    value: the points themselves are neither stored nor audited."""

    request = models.OneToOneField(
        Request, on_delete=models.CASCADE, related_name="data_point_check"
    )
    points_required = models.PositiveSmallIntegerField()
    declaration_required = models.BooleanField(default=False)
    # The e-mail code came first: the address is the requester's.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    email_confirmed_method = models.CharField(
        max_length=20, choices=VerificationMethod.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    points_given = models.PositiveSmallIntegerField(default=0)
    points_matched = models.PositiveSmallIntegerField(default=0)
    kinds_given = models.JSONField(default=list, blank=True)
    kinds_matched = models.JSONField(default=list, blank=True)
    # A correction's field never proves who asks (§7060(h)).
    kinds_excluded = models.JSONField(default=list, blank=True)
    stores_asked = models.PositiveSmallIntegerField(default=0)
    stores_failed = models.PositiveSmallIntegerField(default=0)
    declaration_signed_at = models.DateTimeField(null=True, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"data point check of {self.request_id}"
