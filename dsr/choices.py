from django.db import models

# One for every job, re-exported so a job's choices are all in its app's module.
from privacydesk.retry import AttemptOutcome as AttemptOutcome


class RequestKind(models.TextChoices):
    ACCESS = "access", "Access (a copy of my data)"
    RECTIFICATION = "rectification", "Rectification (correct my data)"
    ERASURE = "erasure", "Erasure (delete my data)"
    PORTABILITY = "portability", "Portability (my data in a reusable format)"
    RESTRICTION = "restriction", "Restriction (pause use of my data)"
    OBJECTION = "objection", "Objection (stop using my data)"


class Regime(models.TextChoices):
    GDPR = "gdpr", "EU GDPR"
    UK_GDPR = "uk_gdpr", "UK GDPR"
    CCPA = "ccpa", "CCPA / CPRA"


class Channel(models.TextChoices):
    PORTAL = "portal", "Customer portal"
    API = "api", "API"
    DASHBOARD = "dashboard", "Dashboard"
    OPENDSR = "opendsr", "OpenDSR"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VERIFIED = "verified", "Verified"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    PARTIALLY_COMPLETED = "partially_completed", "Partially completed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (
    RequestStatus.RECEIVED,
    RequestStatus.VERIFIED,
    RequestStatus.IN_PROGRESS,
)
CLOSED_STATUSES = tuple(s for s in RequestStatus if s not in OPEN_STATUSES)


class PauseReason(models.TextChoices):
    IDENTITY = "identity", "Waiting for proof of identity"
    CLARIFICATION = "clarification", "Waiting for clarification"


class VerificationMethod(models.TextChoices):
    EMAIL_CODE = "email_code", "One-time code sent to the e-mail address"
    EMAIL_LINK = "email_link", "Signed link sent to the e-mail address"
    API_VOUCHED = "api_vouched", "Authenticated by the calling system"
    STAFF_CHECKED = "staff_checked", "Checked by staff"


class ChallengePurpose(models.TextChoices):
    VERIFY = "verify", "Prove identity before the work starts"
    DOWNLOAD = "download", "Re-verify before downloading the access package"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting for an external result"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    EXEMPTED = "exempted", "Exempted (legal basis recorded)"
    SKIPPED = "skipped", "Skipped by staff"


TERMINAL_TASK_STATUSES = (
    TaskStatus.SUCCEEDED,
    TaskStatus.FAILED,
    TaskStatus.EXEMPTED,
    TaskStatus.SKIPPED,
)


class HoldScope(models.TextChoices):
    SUBJECT = "subject", "One data subject"
    CONNECTOR = "connector", "A whole connector"
    TABLE = "table", "One table of a connector"


# The requests answered with an access package.
PACKAGE_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY)


class PackageKind(models.TextChoices):
    ACCESS = "access", "Access (GDPR Art. 15)"
    PORTABILITY = "portability", "Portability (GDPR Art. 20)"


class DenialBasis(models.TextChoices):
    """Why a request was refused, in the grounds CCPA metrics name (Cal. Code
    Regs. tit. 11 §7102(a)(2)); "" when not recorded."""

    UNVERIFIABLE = "unverifiable", "The request could not be verified"
    NOT_CONSUMER = "not_consumer", "Not made by a consumer (or their agent)"
    EXEMPT = "exempt", "Information exempt from disclosure or deletion"
    OTHER = "other", "Other grounds"


# GDPR Art. 19 / CCPA-REG §7022(b): the requests whose recipients are told.
RECIPIENT_NOTICE_KINDS = (
    RequestKind.RECTIFICATION,
    RequestKind.ERASURE,
    RequestKind.RESTRICTION,
)


class NotifyMethod(models.TextChoices):
    """How one recipient is told (connectors.disclosure.NOTIFY_METHODS)."""

    CONNECTOR = "connector", "Through its connector (the store's own task)"
    EMAIL = "email", "By e-mail"
    MANUAL = "manual", "A step an officer records"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "To do"
    SENT = "sent", "Sent"
    DONE = "done", "Done"
    IMPOSSIBLE = "impossible", "Impossible or disproportionate (justified)"
