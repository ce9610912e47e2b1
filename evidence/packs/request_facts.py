"""The facts of one request's evidence pack (reads only).

Everything here is counts, dates, references and field names: no identifier,
no value found in a store, no free text a subject wrote. The one exception is
`internal` (the subject's identifiers), filled only for an internal copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.choices import Action
from dsr.choices import (
    CLOSED_STATUSES,
    PauseReason,
    RequestKind,
    TaskStatus,
    VerificationMethod,
)
from dsr.clock import local_date
from dsr.models import AccessPackage, Request, RequestTask
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    day,
    deadline_settings,
    integrity_at_generation,
    iso,
    software_facts,
)
from subjects.models import SubjectIdentifier

if TYPE_CHECKING:
    from consent.models import ConsentEvent

READER = actor_system("evidence")

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
    "request.closed": "Request closed",
    "request.rejected": "Request rejected",
    "request.cancelled": "Request cancelled",
    "request.minimised": "Plaintext identifiers removed (self-minimisation)",
}


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
    labels = actor_labels(
        [e.actor for e in events]
        + [request.created_by, request.verified_by, request.approved_by, generated_by]
    )
    stores = _stores(request, tasks)
    facts: dict[str, Any] = {
        "kind": "request",
        "pack": {
            "id": pack_id,
            "generated_at": iso(generated_at),
            "generated_by": generated_by,
            "internal": internal,
            "controller": settings.CONTROLLER_NAME,
            "time_zone": settings.CONTROLLER_TIME_ZONE,
            **software_facts(),
        },
        "settings": {"deadline": deadline_settings(request.regime)},
        "request": _request_part(request),
        "deadline": _deadline(request, generated_at),
        "timeline": _timeline(request, request_events, labels),
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
        "rectification": _rectification(request, tasks),
        "recipient_notifications": [],
        "consent": consent,
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
    return facts


# --- the request and its clock ------------------------------------------------------


def _request_part(request: Request) -> dict[str, Any]:
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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _deadline(request: Request, now: datetime) -> dict[str, Any]:
    """Met or missed, and by how many days (local calendar days)."""
    due = request.due_on
    if request.closed_at is not None:
        closed_on = local_date(request.closed_at)
        margin = (due - closed_on).days
        if margin > 0:
            state = "met"
            summary = f"Met: closed {_plural(margin, 'day')} before the deadline"
        elif margin == 0:
            state = "met"
            summary = "Met: closed on the day of the deadline"
        else:
            state = "missed"
            summary = f"Missed: closed {_plural(-margin, 'day')} after the deadline"
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
        state, summary = "open", f"Open: {_plural(margin, 'day')} left"
    else:
        state, summary = "overdue", f"Open and overdue by {_plural(-margin, 'day')}"
    return {
        "state": state,
        "met": None,
        "due_on": day(due),
        "closed_on": None,
        "days": margin,
        "extended": request.is_extended,
        "summary": summary,
    }


def _timeline(
    request: Request, events: list[AuditEvent], labels: dict[str, str]
) -> dict[str, Any]:
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
        tasks = _plural(len(data.get("tasks", [])), "store task")
        return f"{tasks} ({data.get('action', '')})"
    if action == "access_package.built":
        records = _plural(int(data.get("records", 0)), "record")
        return f"{records}; sha256 {str(data.get('sha256', ''))[:16]}…"
    if action == "request.closed":
        timing = "on time" if data.get("on_time") else "late"
        return f"outcome {data.get('outcome', '?')}, {timing}"
    if action in ("request.rejected", "request.cancelled"):
        return f"was {data.get('previous_status', '?')}"
    return ""


# --- the work in each store ---------------------------------------------------------


def _connector_config(task: RequestTask) -> dict[str, Any]:
    """The store's map as it was when the task ran (the history keeps it)."""
    connector = task.connector
    moment = task.finished_at or task.started_at
    if moment is not None:
        try:
            return dict(connector.history.as_of(moment).config or {})
        except connector.DoesNotExist:
            pass
    return dict(connector.config or {})


_STRATEGY_WORDS = {
    "null": "emptied",
    "mask": "masked",
    "hash": "hashed",
    "pseudonymize": "pseudonymised",
    "redact_pii": "PII redacted",
    "keep": "kept",
}


def _treatment(kind: str, config: dict[str, Any], location: str) -> str:
    """What erasure does at one location, by the store's map (never values)."""
    if kind == "files":
        if config.get("erase") == "delete":
            return "conversations deleted"
        return "identifiers replaced, transcript text PII-redacted"
    if kind != "sql":
        return ""
    table = next(
        (t for t in config.get("tables", []) if t.get("table") == location), None
    )
    if table is None:
        return ""
    erase = table.get("erase")
    if erase == "delete":
        return "rows deleted"
    if erase == "keep":
        return f"rows kept ({table.get('basis', 'basis recorded')})"
    if not isinstance(erase, dict):
        return ""
    by_strategy: dict[str, list[str]] = {}
    for column, rule in erase.items():
        strategy = rule.get("strategy") if isinstance(rule, dict) else rule
        by_strategy.setdefault(str(strategy), []).append(column)
    return "; ".join(
        f"{_STRATEGY_WORDS.get(strategy, strategy)}: {', '.join(sorted(columns))}"
        for strategy, columns in sorted(by_strategy.items())
    )


def _attempts(task: RequestTask) -> list[dict[str, Any]]:
    return [
        {
            "number": attempt.number,
            "started_at": iso(attempt.started_at),
            "finished_at": iso(attempt.finished_at),
            "duration_ms": attempt.duration_ms,
            "outcome": attempt.outcome,
            "error": attempt.error,
            "worker": attempt.worker,
        }
        for attempt in sorted(task.tries.all(), key=lambda a: a.number)
    ]


def _locations(
    task: RequestTask, config: dict[str, Any], *, describe: bool
) -> list[dict[str, Any]]:
    return [
        {
            "location": location,
            "found": int(counts.get("found", 0)),
            "changed": int(counts.get("changed", 0)),
            "treatment": (
                _treatment(task.connector.kind, config, location) if describe else ""
            ),
        }
        for location, counts in sorted((task.per_location or {}).items())
    ]


def _task_part(task: RequestTask, *, describe: bool) -> dict[str, Any]:
    config = _connector_config(task) if describe else {}
    return {
        "task": str(task.public_id),
        "action": task.action,
        "action_label": Action(task.action).label
        if task.action in Action.values
        else task.action,
        "status": task.status,
        "status_label": TaskStatus(task.status).label,
        "manual": task.manual,
        "found": task.records_found,
        "changed": task.records_changed,
        "locations": _locations(task, config, describe=describe),
        "exemptions": [
            {
                "location": str(e.get("location", "")),
                "fields": list(e.get("fields") or []),
                "basis": str(e.get("basis", "")),
                "reason": str(e.get("reason", "")),
                "count": int(e.get("count") or 0),
                "hold": str(e.get("hold", "")),
            }
            for e in (task.exemptions or [])
        ],
        "attempt_count": task.attempts,
        "attempts": _attempts(task),
        "last_error": task.last_error,
        "note": task.status_note,
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "result_digest": task.result_digest,
    }


def _verification(task: RequestTask | None, main: RequestTask) -> dict[str, Any]:
    """The erasure verification pass of one store, in words."""
    if task is None:
        reason = (
            "a manual store: confirmed by staff"
            if main.manual
            else "the store cannot be asked again"
            if main.status == TaskStatus.SUCCEEDED
            else "erasure did not succeed, so nothing was verified"
        )
        return {
            "result": "not_run",
            "result_label": "not run",
            "summary": f"Not run: {reason}",
            "task": None,
        }
    part = _task_part(task, describe=False)
    if task.status == TaskStatus.SUCCEEDED:
        if task.records_found:
            result = "failed"
            summary = f"Failed: {_plural(task.records_found, 'record')} still found"
        else:
            result = "passed"
            summary = "Passed: nothing left that was to be removed"
    else:
        result = "incomplete"
        summary = f"Could not verify ({TaskStatus(task.status).label.lower()})"
    return {"result": result, "result_label": result, "summary": summary, **part}


def _stores(request: Request, tasks: list[RequestTask]) -> list[dict[str, Any]]:
    by_connector: dict[int, list[RequestTask]] = {}
    for task in tasks:
        by_connector.setdefault(task.connector_id, []).append(task)
    stores = []
    for group in by_connector.values():
        main = [t for t in group if t.action != Action.VERIFY_ERASURE]
        checks = [t for t in group if t.action == Action.VERIFY_ERASURE]
        connector = group[0].connector
        for task in main:
            store = {
                "connector": connector.name,
                "kind": connector.kind,
                "categories": list(connector.data_categories or []),
                **_task_part(task, describe=task.action == Action.ERASE),
            }
            if task.action == Action.ERASE:
                verification = _verification(checks[0] if checks else None, task)
                left = {
                    loc["location"]: loc["found"]
                    for loc in verification.get("locations", [])
                }
                for loc in store["locations"]:
                    loc["left_after_verification"] = left.get(loc["location"])
                store["verification"] = verification
            stores.append(store)
    return stores


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


def _rectified_fields(
    task: RequestTask, requested: list[str]
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """Per table, which requested fields the store's map writes (names only),
    and the requested fields it holds nowhere (None: the store did not say)."""
    if task.connector.kind != "sql":
        return [], None
    config = _connector_config(task)
    applied: set[str] = set()
    tables = []
    for table in config.get("tables", []):
        mapping = table.get("rectify") or {}
        fields = sorted(name for name in requested if name in mapping)
        if fields:
            applied.update(fields)
            counts = (task.per_location or {}).get(table.get("table"), {})
            tables.append(
                {
                    "location": table.get("table"),
                    "fields": fields,
                    "found": int(counts.get("found", 0)),
                    "changed": int(counts.get("changed", 0)),
                }
            )
    return tables, sorted(set(requested) - applied)


def _rectification(request: Request, tasks: list[RequestTask]) -> dict[str, Any] | None:
    if request.kind != RequestKind.RECTIFICATION:
        return None
    # Field names only: the corrected values are personal data.
    requested = sorted((request.corrections or {}).keys())
    stores = []
    for task in tasks:
        if task.action != Action.RECTIFY:
            continue
        tables, not_held = _rectified_fields(task, requested)
        stores.append(
            {
                "connector": task.connector.name,
                "status": task.status,
                "status_label": TaskStatus(task.status).label,
                "changed": task.records_changed,
                "tables": tables,
                "fields_not_held": not_held,
            }
        )
    return {"requested_fields": requested, "stores": stores}


# --- consent --------------------------------------------------------------------


def _consent(request: Request, now: datetime) -> dict[str, Any]:
    """The subject's consent history up to closing (or now, if still open)."""
    from consent.selectors import consent_history, purpose_list

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
