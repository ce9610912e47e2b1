"""The audit log: filtered by who, what, which request and when, with
references and names instead of ids, the state of its hash chain, and an
export as CSV."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.actors import Actor
from accounts.models import ApiClient
from audit.models import AuditEvent
from audit.selectors import (
    audit_actions,
    audit_actor_refs,
    audit_chain_verify,
    audit_event_list,
)
from audit.services import audit_export_record
from connectors.selectors import connector_names
from dashboard.forms.audit import AuditFilterForm
from dashboard.views.common import actor_labels, csv_response, page, staff_view
from dashboard.views.tasks import action_label
from dsr.clock import controller_zone, local_today
from dsr.reports import day_start
from dsr.selectors import (
    request_audit_objects,
    request_by_reference,
    request_references,
    request_task_names,
)

PAGE_SIZE = 50
REQUEST_OBJECT_TYPE = "dsr.request"
TASK_OBJECT_TYPE = "dsr.requesttask"
# How object types read to staff; anything else is shown as stored.
OBJECT_NAMES = {
    "accounts.apiclient": "API client",
    "connectors.connector": "Connector",
    "dsr.requesttask": "Task",
    "dsr.legalhold": "Legal hold",
    "retention.legalhold": "Legal hold",
    "retention.purgerun": "Purge run",
    "retention.retentionpolicy": "Retention policy",
    "consent.purpose": "Purpose",
}
# Actors offered by kind rather than one by one (there is one per request).
ACTOR_KINDS = [
    ("subject:", "Any data subject (portal)"),
    ("data_subject:", "Any data subject (consent)"),
    ("connector:", "Any connector (agents, callbacks)"),
    ("system:", "Any system process"),
]


@dataclass(frozen=True)
class EventObject:
    """What an event touched, as staff read it: a name, and a link if the
    dashboard has a page for it."""

    label: str
    request_public_id: str | None = None
    short_id: str = ""


def _object_names(events: list[AuditEvent]) -> dict[int, EventObject]:
    ids: dict[str, list[str]] = {}
    for event in events:
        ids.setdefault(event.object_type, []).append(event.object_id)
    references = request_references(public_ids=ids.get(REQUEST_OBJECT_TYPE, []))
    tasks = request_task_names(public_ids=ids.get(TASK_OBJECT_TYPE, []))
    connectors = connector_names(public_ids=ids.get("connectors.connector", []))
    clients = dict(
        ApiClient.objects.filter(
            public_id__in=[
                value for value in ids.get("accounts.apiclient", []) if _is_uuid(value)
            ]
        ).values_list("public_id", "name")
    )
    names: dict[int, EventObject] = {}
    for event in events:
        kind, object_id = event.object_type, event.object_id
        if not kind:
            continue
        if kind == REQUEST_OBJECT_TYPE and object_id in references:
            names[event.pk] = EventObject(references[object_id], object_id)
        elif kind == TASK_OBJECT_TYPE and object_id in tasks:
            task = tasks[object_id]
            names[event.pk] = EventObject(
                f"{task.reference}: {action_label(task.action).lower()} in "
                f"{task.store}",
                task.request_public_id,
            )
        elif kind == "connectors.connector" and object_id in connectors:
            names[event.pk] = EventObject(f"Connector {connectors[object_id]}")
        elif kind == "accounts.apiclient" and _is_uuid(object_id):
            name = clients.get(_uuid(object_id))
            label = f"API client {name}" if name else "API client"
            names[event.pk] = EventObject(label, short_id=object_id[:8])
        else:
            names[event.pk] = EventObject(
                OBJECT_NAMES.get(kind, kind), short_id=object_id[:8]
            )
    return names


def _is_uuid(value: str) -> bool:
    try:
        _uuid(value)
    except ValueError:
        return False
    return True


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


@dataclass(frozen=True)
class AuditQuery:
    form: AuditFilterForm
    events: QuerySet[AuditEvent]
    filters: dict[str, Any]


def _actor_choices() -> list[tuple[str, str]]:
    refs = audit_actor_refs(leave_out=[prefix for prefix, _ in ACTOR_KINDS])
    labels = actor_labels(refs)
    named = sorted(((ref, labels.get(ref, ref)) for ref in refs), key=lambda c: c[1])
    return [*named, *ACTOR_KINDS]


def _action_choices() -> list[tuple[str, str]]:
    actions = audit_actions()
    families = sorted({action.split(".", 1)[0] + "." for action in actions})
    return [
        *((family, f"Any {family}* event") for family in families),
        *((action, action) for action in actions),
    ]


def _audit_query(request: HttpRequest, actor: Actor) -> AuditQuery:
    form = AuditFilterForm(
        request.GET or None,
        actor_choices=_actor_choices(),
        action_choices=_action_choices(),
    )
    chosen: dict[str, Any] = {}
    if form.is_bound:
        # What validated applies; what did not is named once, at the top.
        form.is_valid()
        chosen = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
        if form.errors:
            parts = [
                f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
                for name, errors in form.errors.items()
                if name in form.fields
            ]
            messages.warning(request, "Some filters were ignored. " + " ".join(parts))
    objects = None
    reference = chosen.get("request")
    if reference:
        found = request_by_reference(actor=actor, reference=reference)
        objects = request_audit_objects(request=found) if found else []
    since: date | None = chosen.get("since")
    until: date | None = chosen.get("until")
    events = audit_event_list(
        actor=actor,
        actor_ref=chosen.get("actor"),
        action=chosen.get("action"),
        objects=objects,
        since=day_start(since) if since else None,
        before=day_start(until + timedelta(days=1)) if until else None,
    ).order_by("-sequence")
    filters = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in chosen.items()
    }
    return AuditQuery(form, events, filters)


@staff_view
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Newest events first, filtered, with a check of the whole chain."""
    query = _audit_query(request, actor)
    page_obj = Paginator(query.events, PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page_obj)
    labels = actor_labels(event.actor for event in events)
    objects = _object_names(events)
    rows = [
        (event, labels.get(event.actor, event.actor), objects.get(event.pk))
        for event in events
    ]
    export = request.GET.copy()
    export.pop("page", None)
    return page(
        request,
        actor,
        "dashboard/audit_log.html",
        {
            "section": "audit",
            "form": query.form,
            "filtered": bool(query.filters),
            "page_obj": page_obj,
            "rows": rows,
            "chain": audit_chain_verify(),
            "export_query": export.urlencode(),
            "time_zone": controller_zone().key,
        },
    )


AUDIT_CSV_COLUMNS = [
    "sequence",
    "occurred_at",
    "actor",
    "actor_ref",
    "action",
    "object",
    "object_type",
    "object_id",
    "data",
    "prev_hash",
    "hash",
]


@require_GET
@staff_view
def audit_log_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The filtered log, every page, oldest first, as CSV: each event with
    its names and its raw refs and hashes, so the chain can be checked from
    the file. The export is itself audited."""
    query = _audit_query(request, actor)
    events = list(query.events.order_by("sequence"))
    labels = actor_labels(event.actor for event in events)
    objects = _object_names(events)
    rows = []
    for event in events:
        name = objects.get(event.pk)
        rows.append(
            [
                event.sequence,
                timezone.localtime(event.occurred_at).isoformat(),
                labels.get(event.actor, event.actor),
                event.actor,
                event.action,
                name.label if name else "",
                event.object_type,
                event.object_id,
                json.dumps(event.data, sort_keys=True),
                event.prev_hash,
                event.hash,
            ]
        )
    audit_export_record(
        actor=actor, what="audit_log", rows=len(rows), filters=query.filters
    )
    return csv_response(
        f"audit-log-{local_today().isoformat()}.csv", AUDIT_CSV_COLUMNS, rows
    )
