from django.db import models


class RecipientRole(models.TextChoices):
    """What a recipient the officer records does with the data (Art. 30(1)(d))."""

    PROCESSOR = "processor", "Processor (acts on our instructions, Art. 28)"
    JOINT_CONTROLLER = "joint_controller", "Joint controller (Art. 26)"
    CONTROLLER = "controller", "Another controller (receives the data for its own use)"
    PUBLIC_AUTHORITY = "public_authority", "Public authority"


class GapKind(models.TextChoices):
    """Something the record cannot say because it is not configured: shown,
    never filled in."""

    NO_PURPOSE = "no_purpose", "No purpose"
    NO_DATA_CATEGORIES = "no_data_categories", "No data categories"
    NO_RETENTION = "no_retention", "No retention period or criterion"
    RETENTION_NOT_ENFORCED = "retention_not_enforced", "No retention policy"
    TRANSFER_WITHOUT_SAFEGUARD = (
        "transfer_without_safeguard",
        "Transfer without safeguard",
    )
    NO_SUBJECT_CATEGORIES = "no_subject_categories", "No categories of data subjects"
    NO_STORE = "no_store", "No store or details recorded"
    NO_CONTROLLER_CONTACT = "no_controller_contact", "No controller contact"
    NO_DPO = "no_dpo", "No DPO contact"
    NO_SECURITY_MEASURES = "no_security_measures", "No security measures"


class GapScope(models.TextChoices):
    STORE = "store", "Store"
    ACTIVITY = "activity", "Processing activity"
    CONTROLLER = "controller", "Controller"


class ExportFormat(models.TextChoices):
    PDF = "pdf", "PDF (evidence pack)"
    CSV = "csv", "CSV"


def role_label(role: str) -> str:
    """A recipient's role for people: "processor", "joint controller"."""
    if role in RecipientRole.values:
        return RecipientRole(role).label.split(" (")[0].lower()
    return role
