from django.db import models


class ConnectorKindChoice(models.TextChoices):
    """The built-in kinds, for code that names one; every kind (SaaS
    definitions included) is listed by connectors.registry.kind_choices."""

    SQL = "sql", "SQL database"
    HTTP = "http", "Outbound webhook"
    PULL = "pull", "Pull agent (CRM side)"
    FILES = "files", "Transcript files (JSON lines)"
    MANUAL = "manual", "Manual task"
    OPENDSR = "opendsr", "OpenDSR processor"


class Action(models.TextChoices):
    """What a connector is asked to do for one request."""

    ACCESS = "access", "Find and export"
    RECTIFY = "rectify", "Correct"
    ERASE = "erase", "Erase"
    VERIFY_ERASURE = "verify_erasure", "Verify erasure"
    RESTRICT = "restrict", "Restrict processing"
    OBJECT = "object", "Record objection"


class Health(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    OK = "ok", "Healthy"
    ERROR = "error", "Failing"


class DiscoveryKind(models.TextChoices):
    """Why a store was scanned."""

    SCAN = "scan", "Discovery (proposed map)"
    RESCAN = "rescan", "Scheduled re-scan"


class DiscoveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Scanning"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
