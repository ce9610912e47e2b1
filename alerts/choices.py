from django.db import models


class AlertRule(models.TextChoices):
    """The rules, by the name their settings use (settings.ALERT_RULES)."""

    BULK_DOWNLOAD = "bulk_download", "Many packages downloaded by one user or client"
    IP_BURST = "ip_burst", "Burst of requests from one address"
    DOMAIN_BURST = "domain_burst", "Burst of requests for one e-mail domain"
    OFF_HOURS = "off_hours", "Staff activity outside working hours"
    NEW_SCOPE = "new_scope", "API client used a scope for the first time"
    FAILED_VERIFICATIONS = (
        "failed_verifications",
        "Repeated failed verifications for one request",
    )
    CHAIN_BROKEN = "chain_broken", "Audit chain broken"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class SubjectKind(models.TextChoices):
    """What an alert is about: never a data subject's identifier."""

    USER = "user", "Staff user"
    CLIENT = "client", "API client"
    IP_HASH = "ip_hash", "Address (keyed hash)"
    DOMAIN_HASH = "domain_hash", "E-mail domain (keyed hash)"
    REQUEST = "request", "Request"
    CHAIN = "chain", "Audit chain"


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "E-mail to the privacy officers"
    WEBHOOK = "webhook", "Signed webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
