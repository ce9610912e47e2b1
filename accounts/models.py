from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


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
