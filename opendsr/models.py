"""What the OpenDSR door keeps beside each request it took in."""

from __future__ import annotations

import uuid

from django.db import models

from accounts.models import ApiClient
from dsr.models import Request
from opendsr.choices import DeliveryStatus, OpenDsrStatus


class OpenDsrRequest(models.Model):
    """A controller's OpenDSR request: its id, callbacks and last status told."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, related_name="opendsr_requests"
    )
    request = models.OneToOneField(
        Request, on_delete=models.CASCADE, related_name="opendsr"
    )
    # The controller's UUID v4 (spec §7.1.1): unique per controller, not
    # across controllers.
    subject_request_id = models.UUIDField()
    api_version = models.CharField(max_length=10, blank=True)
    # The controller's URLs: no personal data (ids only, spec §8.6).
    callback_urls = models.JSONField(default=list, blank=True)
    # sha256 of the raw body: a repeated POST of the same body is the same
    # request; the body itself (identities) is not kept here.
    body_digest = models.CharField(max_length=64)
    submitted_time = models.DateTimeField()  # the subject asked the controller
    received_time = models.DateTimeField()  # the body reached us
    notified_status = models.CharField(
        max_length=12, choices=OpenDsrStatus.choices, default=OpenDsrStatus.PENDING
    )
    cancel_received_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["received_time", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "subject_request_id"],
                name="opendsr_one_request_per_controller_id",
            )
        ]

    def __str__(self) -> str:
        return f"OpenDSR {self.subject_request_id}"


class CallbackDelivery(models.Model):
    """One status callback to one controller URL, and its attempts."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    opendsr_request = models.ForeignKey(
        OpenDsrRequest, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=2000)
    request_status = models.CharField(max_length=12, choices=OpenDsrStatus.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)  # network reasons, never a body
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["opendsr_request", "url", "request_status"],
                name="opendsr_one_callback_per_status_and_url",
            )
        ]

    def __str__(self) -> str:
        return f"callback {self.request_status} of {self.opendsr_request_id}"
