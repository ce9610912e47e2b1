from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accounts.choices import ReviewDecision, ReviewItemKind, ReviewStatus


class ApiClient(models.Model):
    """A machine that calls the REST API with a bearer token and scopes."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    scopes = models.JSONField(default=list)
    token_prefix = models.CharField(max_length=12)
    # Tokens are 256-bit random strings, so a plain SHA-256 is enough to make
    # a stolen database useless for calling the API.
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The scopes it has called the API with: a first use of one is audited
    # (audit.accounts.api_client_scope_use_note; the new-scope alert).
    scopes_used = models.JSONField(default=list, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A pull agent's token works the jobs of this one connector, and no other.
    connector = models.ForeignKey(
        "connectors.Connector",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agent_clients",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF treats the authenticated principal as `request.user`.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffSecurity(models.Model):
    """A staff member's session state: every session signed in before
    `sessions_valid_after` has ended ("log out everywhere", a revocation)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security"
    )
    sessions_valid_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name_plural = "staff security"

    def __str__(self) -> str:
        return f"security of user {self.user_id}"


class AccessReview(models.Model):
    """One periodic review of who can reach Privacy Desk, signed by an officer."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    started_by = models.CharField(max_length=100)  # actor ref
    unused_days = models.PositiveIntegerField()  # clients unused this long: flagged
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    statement = models.TextField(blank=True)  # what the signer attests
    # SHA-256 of the decisions as signed (canonical JSON), also in the chain.
    signed_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"access review {self.created_at:%Y-%m-%d}"


class AccessReviewItem(models.Model):
    """One staff member or API client in a review: what it could do, and the
    reviewer's decision. Its facts are a snapshot taken when the review began."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    review = models.ForeignKey(
        AccessReview, on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(max_length=12, choices=ReviewItemKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=150)  # username or client name, as then
    role = models.CharField(max_length=30, blank=True)
    groups = models.JSONField(default=list)
    scopes = models.JSONField(default=list)
    superuser = models.BooleanField(default=False)
    mfa_enabled = models.BooleanField(null=True)  # staff only
    last_used_at = models.DateTimeField(null=True, blank=True)  # login or API call
    unused = models.BooleanField(default=False)  # flagged: unused too long
    decision = models.CharField(
        max_length=10, choices=ReviewDecision.choices, default=ReviewDecision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="staff", client__isnull=True)
                    | models.Q(kind="api_client", user__isnull=True)
                ),
                name="access_review_item_one_principal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
