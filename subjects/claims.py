"""Reading an identity document into identifier claims (no database)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from subjects.choices import IdentifierKind

_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,24}$")
_NAMESPACE = re.compile(r"^[a-z0-9_.-]{1,50}$")

Claim = tuple[str, str, str]  # (kind, namespace, value)


def identity_claims(identity: Any, *, field: str = "identity") -> list[Claim]:
    """Validate an identity document and return its identifiers.

    Accepts {"email": ..., "phone": ..., "customer_ids": {"crm": "C-1"}}; at
    least one identifier is required. Errors name the field path.
    """
    if not isinstance(identity, dict):
        raise ValidationFailed("must be an object", field=field)
    unknown = set(identity) - {"email", "phone", "customer_ids"}
    if unknown:
        raise ValidationFailed(
            f"unknown key(s): {', '.join(sorted(unknown))}",
            field=f"{field}.{sorted(unknown)[0]}",
        )
    claims: list[Claim] = []
    email = identity.get("email")
    if email not in (None, ""):
        if not isinstance(email, str):
            raise ValidationFailed("must be a string", field=f"{field}.email")
        try:
            validate_email(email.strip())
        except ValidationError as exc:
            raise ValidationFailed(
                "not a valid e-mail address", field=f"{field}.email"
            ) from exc
        claims.append((IdentifierKind.EMAIL, "", email.strip()))
    phone = identity.get("phone")
    if phone not in (None, ""):
        if not isinstance(phone, str) or not _PHONE.match(phone.strip()):
            raise ValidationFailed("not a valid phone number", field=f"{field}.phone")
        claims.append((IdentifierKind.PHONE, "", phone.strip()))
    customer_ids = identity.get("customer_ids")
    if customer_ids is None:
        customer_ids = {}
    if not isinstance(customer_ids, dict):
        raise ValidationFailed(
            'must be an object like {"crm": "C-1001"}', field=f"{field}.customer_ids"
        )
    for system, value in customer_ids.items():
        path = f"{field}.customer_ids.{system}"
        if not _NAMESPACE.match(str(system)):
            raise ValidationFailed("system names use a-z, 0-9, _ . -", field=path)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise ValidationFailed("must be a non-empty string", field=path)
        claims.append((IdentifierKind.CUSTOMER_ID, system, value.strip()))
    if not claims:
        raise ValidationFailed(
            "give at least one of email, phone or customer_ids", field=field
        )
    return claims


def claim_blind_index(claim: Claim) -> str:
    """The keyed index a claim is looked up by (its value is stored encrypted)."""
    kind, namespace, value = claim
    return crypto.blind_index(kind, value, namespace=namespace)


def subject_email(*, identity: dict[str, Any] | None) -> str | None:
    """The e-mail address of an identity document, if it has one."""
    if not identity:
        return None
    email = identity.get("email")
    return email.strip() if isinstance(email, str) and email.strip() else None
