from django.db import models

from privacydesk.retry import AttemptOutcome  # noqa: F401 - one for every job


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1): what a purpose rests on."""

    CONSENT = "consent", "Consent (Art. 6(1)(a))"
    CONTRACT = "contract", "Contract (Art. 6(1)(b))"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (Art. 6(1)(c))"
    VITAL_INTERESTS = "vital_interests", "Vital interests (Art. 6(1)(d))"
    PUBLIC_TASK = "public_task", "Public task (Art. 6(1)(e))"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests (Art. 6(1)(f))"


class ConsentAction(models.TextChoices):
    GRANT = "grant", "Granted"
    WITHDRAW = "withdraw", "Withdrawn"


class ConsentChannel(models.TextChoices):
    """Where the subject expressed the choice."""

    PORTAL = "portal", "Customer portal"
    CHAT_WIDGET = "chat_widget", "Chat widget"
    API = "api", "API"
    DASHBOARD = "dashboard", "Dashboard (staff on the subject's behalf)"
    GPC = "gpc", "Global Privacy Control signal"


class ConsentStatus(models.TextChoices):
    """The current answer for one subject and purpose."""

    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NEEDS_RENEWAL = "needs_renewal", "Needs renewal (the policy changed materially)"
    DEFAULT = "default", "No choice recorded (the purpose's default applies)"


class PropagationStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    # Handed to a webhook (202, result by callback) or parked for a pull agent.
    WAITING = "waiting", "Waiting for the connector's result"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    UNSUPPORTED = "unsupported", "Not supported for this connector kind yet"


TERMINAL_PROPAGATION_STATUSES = (
    PropagationStatus.SUCCEEDED,
    PropagationStatus.FAILED,
    PropagationStatus.UNSUPPORTED,
)


class AssessmentStatus(models.TextChoices):
    """An erasure assessment opened by a withdrawal (GDPR 17(1)(b))."""

    OPEN = "open", "Open"
    ERASURE_REQUESTED = "erasure_requested", "Erasure request filed"
    NOT_NEEDED = "not_needed", "No erasure needed (other basis or nothing held)"
