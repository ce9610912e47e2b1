"""Purposes, the wording shown for them, and the connectors that honour them."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.models import Connector
from connectors.registry import kind_class
from consent.cache import invalidate_purpose_on_commit
from consent.choices import ConsentStatus, LegalBasis
from consent.models import ConsentState, PolicyVersion, Purpose, PurposeConnector
from privacydesk.errors import ValidationFailed

_SLUG = re.compile(r"^[a-z0-9_]{2,50}$")
_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,30}$")
_EDITABLE = (
    "name",
    "description",
    "legal_basis",
    "is_sale_or_sharing",
    "default_granted",
    "propagate",
)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("required", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", field=field)
    return value.strip()


def _clean_purpose_fields(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _EDITABLE:
            raise ValidationFailed("cannot be changed", field=name)
        if name == "name":
            clean[name] = _text(value, name, 100)
        elif name == "description":
            clean[name] = _text(value, name, 2000)
        elif name == "legal_basis":
            if value not in LegalBasis.values:
                raise ValidationFailed(
                    f"one of {', '.join(LegalBasis.values)}", field=name
                )
            clean[name] = value
        else:
            if not isinstance(value, bool):
                raise ValidationFailed("must be true or false", field=name)
            clean[name] = value
    return clean


@transaction.atomic
def purpose_create(
    *,
    actor: Actor,
    slug: str,
    name: str,
    description: str,
    text: str,
    version: str,
    legal_basis: str = LegalBasis.CONSENT,
    is_sale_or_sharing: bool = False,
    default_granted: bool = False,
    propagate: bool = False,
) -> Purpose:
    """A new purpose with its first wording (a purpose without one cannot be asked)."""
    actor.require(Perm.CONSENT_MANAGE)
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ValidationFailed("2-50 of a-z, 0-9 and _", field="slug")
    if Purpose.objects.filter(slug=slug).exists():
        raise ValidationFailed("a purpose with this slug exists", field="slug")
    fields = _clean_purpose_fields(
        {
            "name": name,
            "description": description,
            "legal_basis": legal_basis,
            "is_sale_or_sharing": is_sale_or_sharing,
            "default_granted": default_granted,
            "propagate": propagate,
        }
    )
    purpose = Purpose.objects.create(slug=slug, **fields)
    audit_record(
        actor=actor, action="consent.purpose_created", obj=purpose, data=fields
    )
    policy_version_publish(
        actor=actor, purpose=purpose, version=version, text=text, material=True
    )
    return purpose


@transaction.atomic
def purpose_update(*, actor: Actor, purpose: Purpose, **changes: Any) -> Purpose:
    """Change how a purpose is described or treated; the wording has its own path."""
    actor.require(Perm.CONSENT_MANAGE)
    clean = _clean_purpose_fields(changes)
    before = {name: getattr(purpose, name) for name in clean}
    for name, value in clean.items():
        setattr(purpose, name, value)
    purpose.save()
    audit_record(
        actor=actor,
        action="consent.purpose_updated",
        obj=purpose,
        data={"before": before, "after": clean},
    )
    invalidate_purpose_on_commit(purpose.slug)  # defaults may have changed
    return purpose


@transaction.atomic
def policy_version_publish(
    *, actor: Actor, purpose: Purpose, version: str, text: str, material: bool
) -> PolicyVersion:
    """Publish new wording, in force at once.

    A material change puts every current grant into "needs renewal": the
    check answers no until the subject consents to the new wording.
    """
    actor.require(Perm.CONSENT_MANAGE)
    if not isinstance(version, str) or not _LABEL.match(version):
        raise ValidationFailed("a short label such as 2026-10", field="version")
    body = _text(text, "text", 20_000)
    if PolicyVersion.objects.filter(purpose=purpose, version=version).exists():
        raise ValidationFailed("this purpose has that version already", field="version")
    published = PolicyVersion.objects.create(
        purpose=purpose,
        version=version,
        text=body,
        sha256=text_sha256(body),
        effective_at=timezone.now(),
        material=bool(material),
        published_by=actor.ref,
    )
    renewals = 0
    if published.material:
        # The derived state only; the events that granted stay as they were.
        renewals = ConsentState.objects.filter(
            purpose=purpose, state=ConsentStatus.GRANTED
        ).update(state=ConsentStatus.NEEDS_RENEWAL, updated_at=timezone.now())
    audit_record(
        actor=actor,
        action="consent.policy_published",
        obj=published,
        data={
            "purpose": purpose.slug,
            "version": version,
            "sha256": published.sha256,
            "material": published.material,
            "needs_renewal": renewals,
        },
    )
    invalidate_purpose_on_commit(purpose.slug)
    return published


@transaction.atomic
def purpose_connector_link(
    *,
    actor: Actor,
    purpose: Purpose,
    connector: Connector,
    action: dict[str, Any],
    enabled: bool = True,
) -> PurposeConnector:
    """Declare that a connector honours a purpose, and what a withdrawal does there."""
    actor.require(Perm.CONSENT_MANAGE)
    # What the action may say is the kind's to check (connectors.base).
    action = kind_class(connector.kind).withdrawal_action_clean(
        action, config=connector.config
    )
    link, created = PurposeConnector.objects.update_or_create(
        purpose=purpose,
        connector=connector,
        defaults={"action": action, "enabled": enabled},
    )
    audit_record(
        actor=actor,
        action="consent.connector_linked" if created else "consent.connector_relinked",
        obj=purpose,
        data={"connector": connector.name, "enabled": enabled},
    )
    return link


@transaction.atomic
def purpose_connector_unlink(*, actor: Actor, link: PurposeConnector) -> None:
    actor.require(Perm.CONSENT_MANAGE)
    purpose, connector_name = link.purpose, link.connector.name
    link.delete()
    audit_record(
        actor=actor,
        action="consent.connector_unlinked",
        obj=purpose,
        data={"connector": connector_name},
    )
