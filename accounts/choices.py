from django.db import models


class Role(models.TextChoices):
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"
    SUPPORT_AGENT = "support_agent", "Support agent"
    AUDITOR = "auditor", "Auditor (read-only)"
    ADMIN = "admin", "Administrator"


class Scope(models.TextChoices):
    """API scopes, named <area>:<verb>."""

    REQUESTS_READ = "requests:read", "Read requests"
    REQUESTS_WRITE = "requests:write", "Create requests and add notes"
    REQUESTS_VERIFY = "requests:verify", "Submit verified requests, set received_at"
    REQUESTS_MANAGE = "requests:manage", "Approve, reject, extend, cancel, close"
    AUDIT_READ = "audit:read", "Read the audit log"
    CONSENT_READ = "consent:read", "Read purposes, consent histories and receipts"
    CONSENT_WRITE = "consent:write", "Record consent grants and withdrawals"
    CONSENT_CHECK = "consent:check", "Ask whether a purpose may use a subject now"
    CONNECTORS_READ = "connectors:read", "Read connectors (never their secrets)"
    CONNECTORS_WRITE = "connectors:write", "Create, change and test connectors"
    CONNECTORS_AGENT = "connectors:agent", "Pull agent: work the jobs of one connector"
    RETENTION_READ = "retention:read", "Read retention policies, holds and runs"
    RETENTION_WRITE = "retention:write", "Change policies, place holds, start runs"
    # An AI agent masking a customer's message before a model sees it (the
    # answer carries the consent check for the purpose, so it includes it).
    MASKING_USE = "masking:use", "Mask text for a model and restore its replies"
    TRAINING_READ = (
        "training:read",
        "Read training exclusions, their export key, registered datasets",
    )
    TRAINING_WRITE = "training:write", "Register training datasets"
    # Accountability: records of processing, the breach register, alerts,
    # access reviews (read), and changing them (write).
    GOVERNANCE_READ = (
        "governance:read",
        "Read records of processing, breaches, alerts and access reviews",
    )
    GOVERNANCE_WRITE = (
        "governance:write",
        "Record breaches and notifications, acknowledge alerts",
    )
    # A controller calling /opendsr/v1/: its own requests only, nothing else.
    OPENDSR_SUBMIT = (
        "opendsr:submit",
        "OpenDSR controller: submit, follow and cancel its own requests",
    )


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    SIGNED = "signed", "Signed"


class ReviewItemKind(models.TextChoices):
    STAFF = "staff", "Staff member"
    API_CLIENT = "api_client", "API client"


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "To decide"
    CONFIRMED = "confirmed", "Access confirmed"
    REVOKED = "revoked", "Access revoked"
