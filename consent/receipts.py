"""Consent receipts as JSON, on the Kantara Initiative Consent Receipt v1.1.

The standard fields are filled from the subject's current states and the
events behind them; per purpose we add the exact policy version, its SHA-256
and the state, so the receipt proves which wording each choice was made on.
The subject appears only by pseudonymous id, never by identifier.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.choices import ConsentChannel, ConsentStatus, LegalBasis
from consent.models import ConsentState
from subjects.models import DataSubject

RECEIPT_VERSION = "KI-CR-v1.1.0"
# Stable receipt ids: the same subject and latest event give the same id.
_RECEIPT_NAMESPACE = uuid.UUID("5b0e6c0e-8a43-4c55-9a54-7f0c1b6d2e11")
_COLLECTION_METHOD: dict[str, str] = {
    ConsentChannel.PORTAL: "web form on the customer privacy portal",
    ConsentChannel.CHAT_WIDGET: "prompt in the support chat widget",
    ConsentChannel.API: "recorded by an integrated system through the API",
    ConsentChannel.DASHBOARD: "recorded by staff on the subject's instruction",
    ConsentChannel.GPC: "Global Privacy Control browser signal (Sec-GPC: 1)",
}


def _method(channel: str) -> str:
    return _COLLECTION_METHOD.get(channel, channel)


def consent_receipt(*, actor: Actor, subject: DataSubject) -> dict[str, Any]:
    """The subject's consents as one receipt (purposes without a choice omitted)."""
    actor.require(Perm.CONSENT_VIEW)
    states = list(
        ConsentState.objects.filter(subject=subject)
        .select_related("purpose", "policy_version", "last_event")
        .order_by("purpose__slug")
    )
    latest = max(states, key=lambda s: (s.since, s.last_event_id), default=None)
    receipt_id = uuid.uuid5(
        _RECEIPT_NAMESPACE,
        f"{subject.public_id}:{latest.last_event.public_id if latest else 'none'}",
    )
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": settings.DEADLINE_COUNTRY,
        "consentTimestamp": int(latest.since.timestamp()) if latest else None,
        "collectionMethod": _method(latest.last_event.channel) if latest else None,
        "consentReceiptID": str(receipt_id),
        "language": settings.LANGUAGE_CODE,
        "piiPrincipalId": str(subject.public_id),
        "piiControllers": [
            {
                "piiController": settings.CONTROLLER_NAME,
                "contact": "Data protection officer",
                "address": getattr(settings, "CONTROLLER_ADDRESS", ""),
                "email": settings.PRIVACY_OFFICER_EMAILS[0]
                if settings.PRIVACY_OFFICER_EMAILS
                else settings.DEFAULT_FROM_EMAIL,
                "phone": "",
                "piiControllerUrl": settings.SITE_URL,
            }
        ],
        "policyUrl": f"{settings.SITE_URL}/privacy/",
        "services": [
            {
                "service": "AI customer service",
                "purposes": [_purpose_entry(state) for state in states],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "issuedAt": timezone.now().isoformat(),
    }


def _purpose_entry(state: ConsentState) -> dict[str, Any]:
    purpose = state.purpose
    version = state.policy_version
    return {
        "purpose": purpose.name,
        "purposeCategory": [purpose.slug],
        "consentType": "EXPLICIT"
        if purpose.legal_basis == LegalBasis.CONSENT
        else "NOT-CONSENT",
        "piiCategory": [],
        "primaryPurpose": False,
        "termination": (
            "Until withdrawn; withdraw at any time on the privacy page or where "
            "consent was given"
        ),
        "thirdPartyDisclosure": purpose.is_sale_or_sharing,
        "thirdPartyName": "",
        # Extensions: the proof behind this purpose.
        "legalBasis": purpose.legal_basis,
        "state": state.state,
        "granted": state.state == ConsentStatus.GRANTED,
        "policyVersion": version.version,
        "policySha256": version.sha256,
        "policyEffectiveAt": version.effective_at.isoformat(),
        "consentTimestamp": int(state.since.timestamp()),
        "collectionMethod": _method(state.last_event.channel),
        "eventId": str(state.last_event.public_id),
    }
