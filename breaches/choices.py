from django.db import models


class RiskLevel(models.TextChoices):
    """Art. 33(1) and 34(1): what the breach is likely to result in."""

    UNASSESSED = "unassessed", "Not assessed yet"
    NONE = "none", "Unlikely to result in a risk"
    RISK = "risk", "Likely to result in a risk (notify the authority)"
    HIGH_RISK = "high_risk", "Likely to result in a high risk (also tell the subjects)"


class AuthorityDecision(models.TextChoices):
    """Whether the supervisory authority is notified (Art. 33(1), 33(5))."""

    PENDING = "pending", "Not decided yet"
    NOTIFY = "notify", "Notify the supervisory authority"
    NOT_NOTIFY = "not_notify", "Not notified: unlikely to result in a risk"


class SubjectsDecision(models.TextChoices):
    """Whether the data subjects are told (Art. 34(1), the exceptions of 34(3))."""

    PENDING = "pending", "Not decided yet"
    NOTIFY = "notify", "Tell the data subjects (Art. 34(1))"
    NOT_REQUIRED = "not_required", "Not required: no high risk"
    UNINTELLIGIBLE = (
        "unintelligible",
        "Not required: the data was unintelligible, e.g. encrypted (Art. 34(3)(a))",
    )
    RISK_REMOVED = (
        "risk_removed",
        "Not required: later measures removed the high risk (Art. 34(3)(b))",
    )
    PUBLIC_COMMUNICATION = (
        "public_communication",
        "Public communication instead: telling each one is disproportionate "
        "(Art. 34(3)(c))",
    )


# The decisions not to tell each subject that need the reasons written down.
SUBJECT_EXCEPTIONS = (
    SubjectsDecision.NOT_REQUIRED,
    SubjectsDecision.UNINTELLIGIBLE,
    SubjectsDecision.RISK_REMOVED,
    SubjectsDecision.PUBLIC_COMMUNICATION,
)


class BreachStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class NoticeStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NoticeChannel(models.TextChoices):
    EMAIL = "email", "E-mail"


class ClockState(models.TextChoices):
    """Where the 72-hour clock of Art. 33(1) stands."""

    RUNNING = "running", "Running"
    WARN_48 = "warn_48", "48 hours or less left"
    WARN_24 = "warn_24", "24 hours or less left"
    OVERDUE = "overdue", "Overdue"
    NOTIFIED = "notified", "Authority notified in time"
    NOTIFIED_LATE = "notified_late", "Authority notified late"
    NOT_REQUIRED = "not_required", "Notification not required (decision recorded)"
