"""A request's own facts in its evidence pack: the request, its clock
(deadline met or missed) and its timeline of lifecycle events (reads only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.models import AuditEvent
from dsr.choices import CLOSED_STATUSES, PauseReason, VerificationMethod
from dsr.clock import local_date
from dsr.models import Request
from evidence.packs.common import day, iso, plural

# How the timeline words each lifecycle event (the audit section lists all).
_TIMELINE: dict[str, str] = {
    "request.received": "Request received",
    "request.code_sent": "Verification code sent to the requester",
    "request.verified": "Identity verified",
    "request.approved": "Approved for processing",
    "request.started": "Processing started",
    "request.fanned_out": "Sent to the data stores",
    "request.paused": "Clock paused",
    "request.resumed": "Clock resumed",
    "request.extended": "Deadline extended",
    "request.verification_planned": "Erasure verification pass started",
    "access_package.built": "Access package built",
    "access_package.refused": "Access package refused (incomplete disclosure)",
    "access_package.held_for_review": "Access package held for an officer's review",
    "access_package.opened_for_review": "Access package opened by an officer",
    "access_package.released": "Access package released to the requester",
    "request.closed": "Request closed",
    "request.rejected": "Request rejected",
    "request.cancelled": "Request cancelled",
    "request.minimised": "Plaintext identifiers removed (self-minimisation)",
}


def request_part(request: Request) -> dict[str, Any]:
    """The request's own fields: reference, kind, status, dates (no identity)."""
    return {
        "reference": request.reference,
        "public_id": str(request.public_id),
        "kind": request.kind,
        "kind_label": request.get_kind_display(),
        "regime": request.regime,
        "regime_label": request.get_regime_display(),
        "channel": request.channel,
        "channel_label": request.get_channel_display(),
        "status": request.status,
        "status_label": request.get_status_display(),
        "status_reason": request.status_reason,
        "closed": request.status in CLOSED_STATUSES,
        "subject": request.subject.pseudonym,
        "received_at": iso(request.received_at),
        "clock_start_on": day(request.clock_start_on),
        "due_on": day(request.due_on),
        "standard_due_on": day(request.standard_due_on),
        "extension_notice_by": day(request.extension_notice_by),
        "acknowledge_by": day(request.acknowledge_by),
        "closed_at": iso(request.closed_at),
        "created_by": request.created_by,
    }


def deadline_part(request: Request, now: datetime) -> dict[str, Any]:
    """Met or missed, and by how many days (local calendar days)."""
    due = request.due_on
    if request.closed_at is not None:
        closed_on = local_date(request.closed_at)
        margin = (due - closed_on).days
        if margin > 0:
            state = "met"
            summary = f"Met: closed {plural(margin, 'day')} before the deadline"
        elif margin == 0:
            state = "met"
            summary = "Met: closed on the day of the deadline"
        else:
            state = "missed"
            summary = f"Missed: closed {plural(-margin, 'day')} after the deadline"
        return {
            "state": state,
            "met": state == "met",
            "due_on": day(due),
            "closed_on": day(closed_on),
            "days": margin,
            "extended": request.is_extended,
            "summary": summary,
        }
    today = local_date(now)
    margin = (due - today).days
    if margin >= 0:
        state, summary = "open", f"Open: {plural(margin, 'day')} left"
    else:
        state, summary = "overdue", f"Open and overdue by {plural(-margin, 'day')}"
    return {
        "state": state,
        "met": None,
        "due_on": day(due),
        "closed_on": None,
        "days": margin,
        "extended": request.is_extended,
        "summary": summary,
    }


def timeline_part(
    request: Request, events: list[AuditEvent], labels: dict[str, str]
) -> dict[str, Any]:
    """Verification, approval, pauses, extension and each lifecycle event."""
    extension_event = next((e for e in events if e.action == "request.extended"), None)
    extension = None
    if request.extended_at is not None:
        notice_on = local_date(request.extended_at)
        extension = {
            "at": iso(request.extended_at),
            "reason": request.extension_reason,
            "notice_sent_on": day(notice_on),
            "notice_due_by": day(request.extension_notice_by),
            "notice_in_time": notice_on <= request.extension_notice_by,
            "due_on_before": (
                extension_event.data.get("due_on_before") if extension_event else None
            ),
            "due_on_after": day(request.due_on),
        }
    pauses = [
        {
            "reason": pause.reason,
            "reason_label": PauseReason(pause.reason).label,
            "started_at": iso(pause.started_at),
            "ended_at": iso(pause.ended_at),
            "days": (
                (local_date(pause.ended_at) - local_date(pause.started_at)).days
                if pause.ended_at
                else None
            ),
        }
        for pause in request.pauses.order_by("started_at")
    ]
    verification = None
    if request.verified_at is not None:
        method = request.verification_method
        verification = {
            "at": iso(request.verified_at),
            "method": method,
            "method_label": (
                VerificationMethod(method).label
                if method in VerificationMethod.values
                else method
            ),
            "by": request.verified_by,
        }
    return {
        "received_at": iso(request.received_at),
        "acknowledge_by": day(request.acknowledge_by),
        "verification": verification,
        "approval": (
            {"at": iso(request.approved_at), "by": request.approved_by}
            if request.approved_at
            else None
        ),
        "pauses": pauses,
        "extension": extension,
        "closed_at": iso(request.closed_at),
        "transitions": [
            {
                "sequence": e.sequence,
                "at": e.occurred_at.isoformat(timespec="microseconds"),
                "action": e.action,
                "label": _TIMELINE[e.action],
                "detail": _detail(e),
                "actor": e.actor,
                "actor_label": labels.get(e.actor, e.actor),
            }
            for e in events
            if e.action in _TIMELINE
        ],
    }


def _detail(event: AuditEvent) -> str:
    """One line of what an event's data says (ids and facts only)."""
    data = event.data or {}
    action = event.action
    if action == "request.received":
        return f"via {data.get('channel', '?')}; due {data.get('due_on', '?')}"
    if action == "request.verified":
        method = data.get("method", "")
        label = (
            VerificationMethod(method).label
            if method in VerificationMethod.values
            else method
        )
        return f"{label}; due {data.get('due_on', '?')}"
    if action == "request.paused":
        return f"waiting for {data.get('reason', '?')}"
    if action == "request.resumed":
        return f"due {data.get('due_on', '?')}"
    if action == "request.extended":
        return f"due {data.get('due_on_before', '?')} -> {data.get('due_on', '?')}"
    if action == "request.fanned_out":
        tasks = plural(len(data.get("tasks", [])), "store task")
        return f"{tasks} ({data.get('action', '')})"
    if action == "access_package.built":
        records = plural(int(data.get("records", 0)), "record")
        return f"{records}; sha256 {str(data.get('sha256', ''))[:16]}…"
    if action == "request.closed":
        timing = "on time" if data.get("on_time") else "late"
        return f"outcome {data.get('outcome', '?')}, {timing}"
    if action in ("request.rejected", "request.cancelled"):
        review = data.get("at_review")
        at_review = f", at review ({review})" if review else ""
        return f"was {data.get('previous_status', '?')}{at_review}"
    if action == "request.approved" and data.get("review"):
        return "after review before the work (note kept with the request)"
    if action == "access_package.released":
        return "after review" + (
            "; note kept with the request" if "note_id" in data else ""
        )
    return ""
