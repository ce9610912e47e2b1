"""The facts of one request's evidence pack (reads only).

Everything here is counts, dates, references and field names: no identifier,
no value found in a store, no free text a subject wrote. The one exception is
`internal` (the subject's identifiers), filled only for an internal copy.
The request and its clock come from `request_timeline`, the work in each
store from `store_facts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from accounts.actors import actor_system
from audit.models import AuditEvent
from consent.selectors import consent_history, purpose_list
from dsr.choices import RequestKind
from dsr.models import (
    AccessPackage,
    AgentAuthority,
    DataPointCheck,
    RecipientNotification,
    Request,
)
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    deadline_settings,
    integrity_at_generation,
    iso,
    pack_header,
)
from evidence.packs.request_timeline import deadline_part, request_part, timeline_part
from evidence.packs.store_facts import rectification_part, stores_part
from masking.selectors import vault_shredded_count
from subjects.models import SubjectIdentifier
from training.selectors import training_pack_facts

if TYPE_CHECKING:
    from consent.models import ConsentEvent

READER = actor_system("evidence")


def request_facts(
    *,
    request: Request,
    head: AuditEvent | None,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
    internal: bool,
) -> dict[str, Any]:
    """Every fact of the request's pack, JSON-ready, as of the chain `head`."""
    head_sequence = head.sequence if head is not None else 0
    consent = _consent(request, generated_at)
    # The request's own events, and those recording the consent choices
    # listed, so each consent event is proven by the chain too.
    events = list(
        AuditEvent.objects.filter(
            Q(object_type="dsr.request", object_id=str(request.public_id))
            | Q(
                object_type="consent.consentevent",
                object_id__in=[event["id"] for event in consent["events"]],
            ),
            sequence__lte=head_sequence,
        ).order_by("sequence")
    )
    request_events = [e for e in events if e.object_type == "dsr.request"]
    tasks = list(
        request.tasks.select_related("connector")
        .prefetch_related("tries")
        .order_by("connector__name", "created_at", "pk")
    )
    notifications = list(
        RecipientNotification.objects.filter(request=request)
        .select_related("connector")
        .order_by("connector__name", "recipient_name", "pk")
    )
    labels = actor_labels(
        [e.actor for e in events]
        + [request.created_by, request.verified_by, request.approved_by, generated_by]
        + [row.status_by for row in notifications if row.status_by]
    )
    stores = stores_part(request, tasks)
    facts: dict[str, Any] = {
        "kind": "request",
        "pack": pack_header(
            pack_id=pack_id,
            generated_at=generated_at,
            generated_by=generated_by,
            internal=internal,
        ),
        "settings": {"deadline": deadline_settings(request.regime)},
        "request": request_part(request),
        "deadline": deadline_part(request, generated_at),
        "timeline": timeline_part(request, request_events, labels),
        "stores": stores,
        "totals": {
            "stores": len(stores),
            "found": sum(store["found"] for store in stores),
            "changed": sum(store["changed"] for store in stores),
            "exemptions": sum(len(store["exemptions"]) for store in stores),
            "attempts": sum(store["attempt_count"] for store in stores),
            "not_done": sum(
                store["status"] not in ("succeeded", "exempted") for store in stores
            ),
        },
        "access_package": _access_package(request),
        "rectification": rectification_part(request, tasks),
        "recipient_notifications": _recipient_notifications(notifications),
        "agent": _agent(request),
        "data_points": _data_points(request),
        "consent": consent,
        "masking": _masking(request),
        # erasure and objection only: the exclusion and the datasets to rebuild
        "training": training_pack_facts(request=request),
        "audit": {
            "scope": {
                "object_type": "dsr.request",
                "object_id": str(request.public_id),
                "consent_events": [event["id"] for event in consent["events"]],
            },
            "events": [audit_event_facts(e) for e in events],
            "chain_head": chain_head_facts(head),
            "integrity_at_generation": integrity_at_generation(events),
        },
        "actors": labels,
    }
    if internal:
        facts["internal"] = _identifiers(request)
        authority = AgentAuthority.objects.filter(request=request).first()
        if authority is not None:
            facts["internal"]["agent"] = {
                "name": authority.agent_name,
                "contact": authority.agent_contact,
            }
    return facts


def _access_package(request: Request) -> dict[str, Any] | None:
    if request.kind not in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        return None
    package = AccessPackage.objects.filter(request=request).first()
    if package is None:
        return {"built": False}
    return {
        "built": True,
        "id": str(package.public_id),
        "kind": package.kind,
        "sha256": package.sha256,
        "size": package.size,
        "record_count": package.record_count,
        "contents": [
            {
                "name": str(entry.get("name", "")),
                "size": int(entry.get("size", 0)),
            }
            for entry in package.contents
        ],
        "built_at": iso(package.created_at),
        "expires_at": iso(package.expires_at),
        "purged_at": iso(package.purged_at),
        "download_count": package.download_count,
    }


def _agent(request: Request) -> dict[str, Any] | None:
    """An authorised agent's authority and the consumer's own confirmation
    (CCPA-REG §7063, B16); None when the consumer filed. The agent's name
    and address are personal data: in the internal copy only."""
    authority = AgentAuthority.objects.filter(request=request).first()
    if authority is None:
        return None
    return {
        "authority": "power_of_attorney"
        if authority.power_of_attorney
        else "signed_permission"
        if authority.permission_sha256
        else "none",
        "permission_sha256": authority.permission_sha256,
        "permission_size": authority.permission_size,
        "permission_deleted_at": iso(authority.permission_deleted_at),
        "authority_recorded_at": iso(authority.authority_recorded_at),
        "authority_recorded_by": authority.authority_recorded_by,
        "consumer_confirmed_at": iso(authority.consumer_confirmed_at),
        "consumer_confirmed_method": authority.consumer_confirmed_method,
    }


def _data_points(request: Request) -> dict[str, Any] | None:
    """The CCPA-REG §7062 data-point verification (B15): required, matched
    of given, which kinds, the declaration; never a value. None when the
    request had none."""
    check = DataPointCheck.objects.filter(request=request).first()
    if check is None:
        return None
    return {
        "points_required": check.points_required,
        "declaration_required": check.declaration_required,
        "attempts": check.attempts,
        "points_given": check.points_given,
        "points_matched": check.points_matched,
        "kinds_given": list(check.kinds_given),
        "kinds_matched": list(check.kinds_matched),
        "kinds_excluded": list(check.kinds_excluded),
        "stores_asked": check.stores_asked,
        "stores_failed": check.stores_failed,
        "declaration_signed_at": iso(check.declaration_signed_at),
        "passed_at": iso(check.passed_at),
    }


def _recipient_notifications(
    notifications: list[RecipientNotification],
) -> list[dict[str, Any]]:
    """Each recipient told of the change (GDPR 19): how, with what result,
    when and by whom. Company names, never the subject's data; the e-mail
    address a notice went to is left out."""
    return [
        {
            "id": str(row.public_id),
            "connector": row.connector.name,
            "recipient": row.recipient_name,
            "role": row.recipient_role,
            "named": row.named,
            "method": row.method,
            "method_label": row.get_method_display(),
            "status": row.status,
            "status_label": row.get_status_display(),
            "at": iso(row.status_at),
            "by": row.status_by,
            "justification": row.justification,
            "note": row.note,
            "created_at": iso(row.created_at),
        }
        for row in notifications
    ]


def _masking(request: Request) -> dict[str, Any] | None:
    """What the erasure shredded of the masking vault (crypto-shredding:
    tokens already in AI logs point at nothing); None when nothing was."""
    deleted = vault_shredded_count(request=request)
    if deleted is None:
        return None
    return {"vault_entries_deleted": deleted}


# --- consent --------------------------------------------------------------------


def _consent(request: Request, now: datetime) -> dict[str, Any]:
    """The subject's consent history up to closing (or now, if still open)."""
    as_of = request.closed_at or now
    events = list(
        consent_history(actor=READER, subject=request.subject)
        .filter(occurred_at__lte=as_of)
        .order_by("occurred_at", "id")
    )
    last: dict[str, ConsentEvent] = {}
    for event in events:
        last[event.purpose.slug] = event
    states = []
    for purpose in purpose_list():
        latest = last.get(purpose.slug)
        states.append(
            {
                "purpose": purpose.slug,
                "name": purpose.name,
                "state": latest.action if latest else "no_choice",
                "since": iso(latest.occurred_at) if latest else None,
                "policy_version": latest.policy_version.version if latest else None,
                "default_allowed": purpose.default_granted,
            }
        )
    return {
        "as_of": iso(as_of),
        "events": [
            {
                "id": str(event.public_id),
                "occurred_at": iso(event.occurred_at),
                "purpose": event.purpose.slug,
                "action": event.action,
                "policy_version": event.policy_version.version,
                "policy_sha256": event.policy_version.sha256,
                "channel": event.channel,
                "source_system": event.source_system,
                "recorded_by": event.recorded_by,
            }
            for event in events
        ],
        "states": states,
    }


# --- internal copy only -------------------------------------------------------------


def _identifiers(request: Request) -> dict[str, Any]:
    """The subject's identifiers: only ever in an internal copy."""
    claimed = request.identity if isinstance(request.identity, dict) else {}
    linked: Iterable[SubjectIdentifier] = SubjectIdentifier.objects.filter(
        subject_id=request.subject_id
    ).order_by("kind", "namespace", "pk")
    return {
        "claimed": {
            "email": claimed.get("email") or "",
            "phone": claimed.get("phone") or "",
            "customer_ids": dict(claimed.get("customer_ids") or {}),
        },
        "linked": [
            {"kind": item.kind, "namespace": item.namespace, "value": item.value}
            for item in linked
        ],
    }
