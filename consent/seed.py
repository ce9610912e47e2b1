"""The purposes every installation starts with, and their first wording.

Each first policy version is in plain language and says, before the subject
consents, that consent can be withdrawn at any time and that withdrawing does
not affect earlier processing (GDPR 7(2), 7(3)). Used by migration 0002 (with
historical models) and by anything that must restore them after a flush.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, TypedDict

WITHDRAWAL = (
    "You can withdraw your consent at any time, as easily as you gave it: on "
    "our privacy page, or wherever you gave it. Withdrawing does not affect "
    "anything we did with your consent before you withdrew it. Saying no does "
    "not change the service you get from us."
)


class PurposeSpec(TypedDict):
    """A default purpose: its Purpose fields and its first wording's text."""

    slug: str
    name: str
    description: str
    is_sale_or_sharing: bool
    propagate: bool
    text: str


PURPOSES: list[PurposeSpec] = [
    {
        "slug": "ai_processing",
        "name": "AI assistant in support conversations",
        "description": "An AI assistant reads your messages and writes replies.",
        "is_sale_or_sharing": False,
        "propagate": False,
        "text": (
            "When you chat with us, an AI assistant reads your messages and "
            "writes the replies. It uses what you write in the conversation, "
            "and your account details if you share them, only to answer you. "
            "You can ask for a person at any time. "
        ),
    },
    {
        "slug": "ai_training",
        "name": "Using conversations to train AI models",
        "description": (
            "Copies of your support conversations help train and test the AI "
            "models that answer customers."
        ),
        "is_sale_or_sharing": True,
        "propagate": True,
        "text": (
            "We would like to use copies of your conversations with our support "
            "team and AI assistant to train and test the AI models that help us "
            "answer customers. We remove names, contact details and other "
            "obvious identifiers first. Our AI model provider receives these "
            "copies and may use them to improve its models, which California "
            "law may treat as a sale or sharing of personal information. "
        ),
    },
    {
        "slug": "marketing_email",
        "name": "Marketing e-mails",
        "description": "E-mails about our products, offers and events.",
        "is_sale_or_sharing": False,
        "propagate": True,
        "text": (
            "We would like to send you e-mails about our products, offers and "
            "events, at most twice a month. Every e-mail has a link to stop "
            "them. "
        ),
    },
    {
        "slug": "analytics",
        "name": "Analytics",
        "description": (
            "Measuring how you use our website and support chat, with tools "
            "from other companies."
        ),
        "is_sale_or_sharing": True,
        "propagate": False,
        "text": (
            "We would like to measure how you use our website and support chat "
            "so we can improve them. We use analytics tools from other "
            "companies, which may combine this with what they learn on other "
            "websites; California law may treat this as sharing personal "
            "information. "
        ),
    },
    {
        "slug": "call_recording",
        "name": "Recording support calls",
        "description": "Recording phone calls to check quality and train our staff.",
        "is_sale_or_sharing": False,
        "propagate": False,
        "text": (
            "We would like to record your phone calls with our support team to "
            "check the quality of our answers and to train our staff. We keep "
            "recordings for 90 days. "
        ),
    },
]

# Purposes that use sensitive personal information beyond what the CCPA
# regulations permit (7027(m)): support conversations used to train models
# carry whatever customers wrote (health, finances, account log-ins). Set by
# migration 0007 (the field came after 0002, which seeds with this module).
SENSITIVE_PI_PURPOSES = ("ai_training",)

VERSION = "2026-10"
EFFECTIVE_AT = datetime(2026, 10, 1, tzinfo=UTC)


def seed_purposes(purpose_model: Any = None, version_model: Any = None) -> int:
    """Create the missing default purposes with their first wording; idempotent.

    Returns how many purposes were created.
    """
    if purpose_model is None or version_model is None:
        # Local: migration 0002 imports this module and passes historical models.
        from consent.models import PolicyVersion, Purpose

        purpose_model, version_model = Purpose, PolicyVersion
    has_sensitive_flag = any(
        field.name == "uses_sensitive_pi" for field in purpose_model._meta.fields
    )
    created_count = 0
    for spec in PURPOSES:
        fields: dict[str, Any] = dict(spec)
        text = fields.pop("text") + WITHDRAWAL
        purpose, created = purpose_model.objects.get_or_create(
            slug=fields["slug"],
            defaults={**fields, "legal_basis": "consent", "default_granted": False},
        )
        if not created:
            continue
        created_count += 1
        if has_sensitive_flag and purpose.slug in SENSITIVE_PI_PURPOSES:
            purpose.uses_sensitive_pi = True
            purpose.save(update_fields=["uses_sensitive_pi"])
        version_model.objects.create(
            purpose=purpose,
            version=VERSION,
            text=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            effective_at=EFFECTIVE_AT,
            material=True,  # the first wording: every consent rests on it
            published_by="system:seed",
        )
    return created_count
