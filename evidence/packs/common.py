"""Facts shared by every kind of pack: dates, audit events, actors, settings."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import holidays
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import ApiClient
from audit.chain import GENESIS_HASH, hash_of
from audit.models import AuditEvent
from dsr.clock import deadline_rules
from evidence.packs.canonical import canonical_bytes


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def plural(count: int, word: str) -> str:
    """`count` and the word, plural unless the count is one."""
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- audit events -------------------------------------------------------------------


def audit_event_facts(event: AuditEvent) -> dict[str, Any]:
    """Every hashed field of an event, so a program can recompute its hash.

    `occurred_at` is written exactly as the chain hashes it."""
    return {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def chain_head_facts(head: AuditEvent | None) -> dict[str, Any]:
    if head is None:
        return {"sequence": 0, "hash": GENESIS_HASH, "occurred_at": None}
    return {
        "sequence": head.sequence,
        "hash": head.hash,
        "occurred_at": head.occurred_at.isoformat(timespec="microseconds"),
    }


def integrity_at_generation(events: list[AuditEvent]) -> dict[str, Any]:
    """Whether the listed events still match their hashes as the pack is made.

    A pack generated over a tampered row says so on its cover instead of
    lending the altered row its authority."""
    altered = [e.sequence for e in events if hash_of(e) != e.hash]
    return {"events_checked": len(events), "altered": altered, "ok": not altered}


# --- who did it ---------------------------------------------------------------------


def actor_labels(refs: Iterable[str]) -> dict[str, str]:
    """Readable names for the actor refs of the audit log.

    Staff usernames and API client names are looked up; a data subject is
    never named, whatever the ref holds."""
    wanted = sorted({ref for ref in refs if ref})
    labels: dict[str, str] = {}
    user_ids = [
        int(ref.split(":", 1)[1])
        for ref in wanted
        if ref.startswith("user:") and ref.split(":", 1)[1].isdigit()
    ]
    if user_ids:
        user_model = get_user_model()
        for pk, username in user_model.objects.filter(pk__in=user_ids).values_list(
            "pk", user_model.USERNAME_FIELD
        ):
            labels[f"user:{pk}"] = f"{username} (staff)"
    client_ids = []
    for ref in wanted:
        if ref.startswith("client:"):
            try:
                client_ids.append(uuid.UUID(ref.split(":", 1)[1]))
            except ValueError:
                continue
    for public_id, name in ApiClient.objects.filter(
        public_id__in=client_ids
    ).values_list("public_id", "name"):
        labels[f"client:{public_id}"] = f"API client {name}"
    for ref in wanted:
        if ref in labels:
            continue
        kind, _, rest = ref.partition(":")
        if kind == "system":
            labels[ref] = f"Privacy Desk ({rest})"
        elif kind == "subject":
            labels[ref] = "the data subject"
        else:
            labels[ref] = ref
    return labels


# --- the settings a pack relied on (REQUIREMENTS B45) -----------------------------


def settings_version(values: dict[str, Any]) -> str:
    """A short, stable fingerprint of a settings dict: equal settings, equal id."""
    return hashlib.sha256(canonical_bytes(values)).hexdigest()[:16]


def deadline_settings(regime: str) -> dict[str, Any]:
    """The clock settings a request's deadline was computed with."""
    values = {
        "time_zone": settings.CONTROLLER_TIME_ZONE,
        "calendar": {
            "country": settings.DEADLINE_COUNTRY,
            "subdivision": settings.DEADLINE_SUBDIVISION or "",
            "holidays_package": holidays.__version__,
        },
        "rules": asdict(deadline_rules(regime)),
        "requests_require_approval": bool(settings.REQUESTS_REQUIRE_APPROVAL),
    }
    return {"version": settings_version(values), **values}


def pack_header(
    *,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
    covers: str | None = None,
    internal: bool = False,
    controller: str | None = None,
) -> dict[str, Any]:
    """The `pack` part every pack's facts open with: which pack, made when
    and by whom, for which controller, by which renderer."""
    header: dict[str, Any] = {"id": pack_id}
    if covers is not None:
        header["covers"] = covers
    return {
        **header,
        "generated_at": iso(generated_at),
        "generated_by": generated_by,
        "internal": internal,
        "controller": controller or settings.CONTROLLER_NAME,
        "time_zone": settings.CONTROLLER_TIME_ZONE,
        **software_facts(),
    }


def software_facts() -> dict[str, str]:
    # Local: WeasyPrint takes ~0.8 s to import; web processes load this module.
    import weasyprint

    return {"renderer": f"WeasyPrint {weasyprint.__version__}"}
