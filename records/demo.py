"""The demo's records of processing: the officer's part filled in as a
small support team would, and the assistant's consent purpose linked to the
stores that serve it, so the record is complete but for one realistic gap:
the demo helpdesk states a 24-month retention that no enabled retention
policy enforces yet (a purge would delete the demo's tickets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.actors import actor_system
from connectors.models import Connector
from consent.models import Purpose, PurposeConnector
from consent.services.policies import purpose_connector_link
from records.models import Activity, ProcessingRecord
from records.services import (
    activity_create,
    processing_record_update,
    recipient_create,
)

ACTOR = actor_system("seed_demo")
CONTROLLER: dict[str, Any] = {
    "controller_address": "1 Example Street, London EC1A 1AA, United Kingdom",
    "controller_contact": "privacy@example.com, +44 20 7946 0000",
    "representative": "Example Support EU BV, Keizersgracht 1, Amsterdam (Art. 27)",
    "dpo_name": "Dana Officer",
    "dpo_contact": "dpo@example.com",
    "security_measures": (
        "Personal data is encrypted in transit (TLS 1.2+) and at rest; identifiers "
        "held by Privacy Desk are encrypted per field and looked up by keyed hash. "
        "Staff sign in with individual accounts, roles and optional TOTP; every "
        "staff action is recorded on a hash-chained audit log. Backups are "
        "encrypted and restored quarterly; access is reviewed every quarter."
    ),
    "subject_categories": ["customers", "prospective customers"],
}
# What the officer records for the consent purposes no demo store serves.
ACTIVITIES: dict[str, dict[str, Any]] = {
    "ai_training": {
        "data_categories": ["ai_conversation", "support_message"],
        "retention": "Training copies are deleted 24 months after collection, "
        "or when consent is withdrawn.",
    },
    "marketing_email": {
        "data_categories": ["contact", "marketing_preferences"],
        "retention": "Until consent is withdrawn; suppression list kept to honour "
        "the withdrawal.",
    },
    "analytics": {
        "data_categories": ["usage_data", "device_data"],
        "subject_categories": ["website visitors", "customers"],
        "retention": "Event data is kept 14 months.",
    },
    "call_recording": {
        "data_categories": ["call_recording", "contact"],
        "retention": "Recordings are deleted 90 days after the call.",
    },
}
RECIPIENTS: list[dict[str, Any]] = [
    {
        "purpose": "ai_training",
        "name": "Example Model Provider Inc.",
        "role": "processor",
        "description": "Fine-tunes and evaluates the support models.",
        "country": "United States",
        "safeguards": "EU Standard Contractual Clauses (2021/914), module 2",
    },
    {
        "purpose": "marketing_email",
        "name": "Example Mailer SAS",
        "role": "processor",
        "description": "Sends the marketing e-mails.",
        "country": "FR",
    },
    {
        "purpose": "analytics",
        "name": "Example Analytics Inc.",
        "role": "processor",
        "description": "Hosts the website and chat analytics.",
        "country": "US",
        "safeguards": "EU-US Data Privacy Framework (certified)",
    },
    {
        "purpose": "call_recording",
        "name": "Example Telephony Ltd",
        "role": "processor",
        "description": "Runs the support phone line and stores recordings.",
        "country": "GB",
        "safeguards": "Adequacy decision (EU) 2021/1772",
    },
]
# The assistant's consent purpose is served by these demo stores.
AI_STORES = ("chat-transcripts", "support-memory")


@dataclass
class RecordsDemo:
    officer_part: bool = False
    links: list[str] = field(default_factory=list)


def records_demo_seed() -> RecordsDemo:
    """Fill in what is missing; running it again changes nothing."""
    summary = RecordsDemo()
    assistant = Purpose.objects.filter(slug="ai_processing").first()
    for name in AI_STORES:
        connector = Connector.objects.filter(name=name).first()
        if assistant is None or connector is None:
            continue
        if PurposeConnector.objects.filter(
            purpose=assistant, connector=connector
        ).exists():
            continue
        purpose_connector_link(
            actor=ACTOR, purpose=assistant, connector=connector, action={}
        )
        summary.links.append(name)
    if ProcessingRecord.objects.exists() or Activity.objects.exists():
        return summary
    processing_record_update(actor=ACTOR, **CONTROLLER)
    activities = {}
    for slug, values in ACTIVITIES.items():
        purpose = Purpose.objects.filter(slug=slug).first()
        if purpose is not None:
            activities[slug] = activity_create(actor=ACTOR, purpose=purpose, **values)
    for recipient in RECIPIENTS:
        values = dict(recipient)
        activity = activities.get(values.pop("purpose"))
        if activity is not None:
            recipient_create(actor=ACTOR, activity=activity, **values)
    summary.officer_part = True
    return summary
