"""Input rules of consent events: the evidence kept (an IP only as a keyed
hash), the purpose and policy version named, and when the choice was made."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from consent.models import PolicyVersion, Purpose
from consent.selectors import policy_version_current, purpose_get
from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from subjects.claims import Claim

# Clocks of integrations drift; a choice "from the future" beyond this is a bug.
FUTURE_SKEW = timedelta(minutes=5)
_TEXT_EVIDENCE = {"user_agent": 500, "ai_disclosure_version": 50, "ui_element": 200}
_EVIDENCE_KEYS = {*_TEXT_EVIDENCE, "gpc", "ip"}
IP_HASH_PURPOSE = "consent-evidence-ip"


def evidence_clean(
    raw: Any, *, field: str = "evidence", request_ip: str | None = None
) -> dict[str, Any]:
    """The evidence kept with an event; an IP is only ever kept as a keyed hash.

    `ip` in the evidence is the subject's address as the caller saw it; when
    absent, `request_ip` (the address the call came from) is used instead.
    """
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed("must be an object", field=field)
    unknown = sorted(set(raw) - _EVIDENCE_KEYS)
    if unknown:
        raise ValidationFailed("unknown key", field=f"{field}.{unknown[0]}")
    clean: dict[str, Any] = {}
    for key, limit in _TEXT_EVIDENCE.items():
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise ValidationFailed(
                f"a string of at most {limit} characters", field=f"{field}.{key}"
            )
        clean[key] = value.strip()
    gpc = raw.get("gpc", False)
    if not isinstance(gpc, bool):
        raise ValidationFailed("must be true or false", field=f"{field}.gpc")
    clean["gpc"] = gpc
    ip, source = raw.get("ip"), "evidence"
    if ip in (None, ""):
        ip, source = request_ip, "request"
    elif not isinstance(ip, str):
        raise ValidationFailed("not an IP address", field=f"{field}.ip")
    if ip:
        try:
            address = ipaddress.ip_address(str(ip).strip()).compressed
        except ValueError as exc:
            raise ValidationFailed("not an IP address", field=f"{field}.ip") from exc
        clean["ip_hash"] = crypto.keyed_hash(address, purpose=IP_HASH_PURPOSE)
        clean["ip_source"] = source
    return clean


def purpose_from_input(value: Any, field: str) -> Purpose:
    purpose = purpose_get(slug=value) if isinstance(value, str) else None
    if purpose is None:
        raise ValidationFailed("unknown purpose", field=field)
    return purpose


def version_from_input(purpose: Purpose, label: Any, field: str) -> PolicyVersion:
    if label in (None, ""):
        version = policy_version_current(purpose=purpose)
        if version is None:
            raise ValidationFailed("this purpose has no published policy", field=field)
        return version
    version = PolicyVersion.objects.filter(purpose=purpose, version=label).first()
    if version is None:
        raise ValidationFailed(f"no version {label!r} of {purpose.slug}", field=field)
    return version


def occurred_at_clean(value: datetime | None, field: str = "occurred_at") -> datetime:
    """When the choice was made: now if not given, never in the future."""
    now = timezone.now()
    if value is None:
        return now
    if value > now + FUTURE_SKEW:
        raise ValidationFailed("must not be in the future", field=field)
    return value


def claim_indexes(claims: Iterable[Claim]) -> list[str]:
    return [crypto.blind_index(kind, value, namespace=ns) for kind, ns, value in claims]
