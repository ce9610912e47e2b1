from django.db import models

from connectors import opendsr_protocol as protocol


class OpenDsrStatus(models.TextChoices):
    """Request statuses of OpenDSR 2.0 §8."""

    PENDING = protocol.PENDING, "Pending"
    IN_PROGRESS = protocol.IN_PROGRESS, "In progress"
    COMPLETED = protocol.COMPLETED, "Completed"
    CANCELLED = protocol.CANCELLED, "Cancelled"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Being sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed after every attempt"
