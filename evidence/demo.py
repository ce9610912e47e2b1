"""A realistic closed erasure request, for evidence-pack tests and the benchmark.

It goes through the real services wherever one exists (request, pause,
extension, notes, consent, close) and writes the store tasks' rows and audit
events the way the executor does, so a pack of it looks like one from
production: N SQL stores (one of them manual), per-table counts, a verification
pass, a kept table with its legal basis, a retried attempt, consent choices.
Nothing here is enqueued: the caller decides what runs after commit.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.actors import Actor, actor_system
from audit.selectors import audit_events_for_object
from audit.services import audit_record
from connectors.models import Connector
from consent.seed import seed_purposes
from consent.selectors import purpose_get
from consent.services.events import consent_record
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.clock import request_extend, request_pause, request_resume
from dsr.services.requests import (
    request_add_note,
    request_close,
    request_create,
    request_verify,
)

SAMPLE_TABLES: list[dict[str, Any]] = [
    {
        "table": "customers",
        "key": "id",
        "category": "contact",
        "identity": {"email": "email", "phone": "phone"},
        "erase": {"email": "hash", "phone": "mask", "name": "null"},
        "name_column": "name",
        "rectify": {"name": "name", "phone": "phone"},
    },
    {
        "table": "tickets",
        "key": "id",
        "category": "support_ticket",
        "parent": {"table": "customers", "column": "customer_id", "references": "id"},
        "erase": {"subject": "redact_pii"},
    },
    {
        "table": "messages",
        "key": "id",
        "category": "support_ticket",
        "parent": {"table": "tickets", "column": "ticket_id", "references": "id"},
        "erase": {"body": "redact_pii"},
    },
    {
        "table": "invoices",
        "key": "id",
        "category": "billing",
        "parent": {"table": "customers", "column": "customer_id", "references": "id"},
        "erase": "keep",
        "basis": "GDPR Art. 17(3)(b): tax law requires invoices for 10 years",
        "reason": "statutory retention of accounting records",
    },
]
_COUNTS = {
    "customers": (1, 1),
    "tickets": (6, 6),
    "messages": (41, 39),
    "invoices": (3, 0),
}


def _store(index: int, manual: bool) -> Connector:
    name = f"sample-{'desk' if not manual else 'crm'}-{index:02d}"
    connector, _ = Connector.objects.get_or_create(
        name=name,
        defaults={
            "kind": "manual" if manual else "sql",
            "config": {}
            if manual
            else {
                "dsn": f"postgresql://store{index}.internal/helpdesk",
                "tables": SAMPLE_TABLES,
            },
            "data_categories": ["contact", "support_ticket", "billing"],
            # Disabled: other requests in the same database are not fanned out to it.
            "enabled": False,
        },
    )
    return connector


def _finished_task(
    request: Request,
    connector: Connector,
    *,
    action: str,
    per_location: dict[str, dict[str, int]],
    exemptions: list[dict[str, Any]] | None = None,
    failures: int = 0,
    manual: bool = False,
    note: str = "",
    actor: Actor,
) -> RequestTask:
    now = timezone.now()
    task = RequestTask.objects.create(
        request=request,
        connector=connector,
        action=action,
        manual=manual,
        status="succeeded",
        attempts=failures + (0 if manual else 1),
        started_at=now - timedelta(seconds=3),
        finished_at=now,
        records_found=sum(c["found"] for c in per_location.values()),
        records_changed=sum(c["changed"] for c in per_location.values()),
        per_location=per_location,
        exemptions=exemptions or [],
        status_note=note,
    )
    for number in range(1, task.attempts + 1):
        failed = number <= failures
        TaskAttempt.objects.create(
            task=task,
            number=number,
            worker="worker-1",
            started_at=now - timedelta(seconds=60 * (task.attempts - number) + 3),
            finished_at=now - timedelta(seconds=60 * (task.attempts - number)),
            duration_ms=412 if failed else 1873,
            outcome="retry" if failed else "succeeded",
            error="could not connect to the store (timeout after 10 s)"
            if failed
            else "",
        )
    audit_record(
        actor=actor,
        action="task.succeeded",
        obj=request,
        data={
            "task": str(task.public_id),
            "connector": connector.name,
            "action": action,
            "found": task.records_found,
            "changed": task.records_changed,
            "digest": "",
            "exemptions": len(task.exemptions),
        },
    )
    return task


def _consent_history(request: Request, actor: Actor) -> None:
    seed_purposes()  # idempotent; a flushed test database may lack them

    choices = [
        ("ai_processing", "grant", 90),
        ("marketing_email", "grant", 60),
        ("analytics", "grant", 60),
        ("marketing_email", "withdraw", 30),
    ]
    for slug, action, days_ago in choices:
        purpose = purpose_get(slug=slug)
        if purpose is None:
            continue
        consent_record(
            actor=actor,
            subject=request.subject,
            purpose=purpose,
            action=action,
            channel="portal",
            occurred_at=timezone.now() - timedelta(days=days_ago),
        )


def sample_closed_erasure(*, stores: int = 3, audit_events: int = 0) -> Request:
    """A completed erasure over `stores` stores; padded with staff notes until
    the request has at least `audit_events` audit events."""
    system = actor_system("executor")
    staff = actor_system("sample")
    request = request_create(
        actor=staff,
        kind="erasure",
        regime="gdpr",
        channel="portal",
        identity={"email": f"sample.subject.{uuid.uuid4().hex[:8]}@example.com"},
        received_at=timezone.now() - timedelta(days=1),
    )
    _consent_history(request, staff)
    request = request_verify(actor=staff, request=request, method="email_code")
    request = request_pause(actor=staff, request=request, reason="clarification")
    request = request_resume(actor=staff, request=request)
    request = request_extend(
        actor=staff,
        request=request,
        reason="Ten connected systems hold this customer's data; the verification "
        "pass of each needs more time than the first month allows.",
    )
    erase_tasks = []
    for index in range(1, stores + 1):
        manual = stores >= 3 and index == stores
        connector = _store(index, manual)
        if manual:
            erase_tasks.append(
                _finished_task(
                    request,
                    connector,
                    action="erase",
                    per_location={},
                    manual=True,
                    note="Card deleted by hand in the on-premise CRM; screenshot "
                    "filed with the ticket.",
                    actor=staff,
                )
            )
            continue
        per_location = {
            table: {"found": found, "changed": changed}
            for table, (found, changed) in _COUNTS.items()
        }
        erase_tasks.append(
            _finished_task(
                request,
                connector,
                action="erase",
                per_location=per_location,
                exemptions=[
                    {
                        "location": "invoices",
                        "fields": [],
                        "basis": SAMPLE_TABLES[3]["basis"],
                        "reason": SAMPLE_TABLES[3]["reason"],
                        "count": _COUNTS["invoices"][0],
                    }
                ],
                failures=1 if index == 2 else 0,
                actor=system,
            )
        )
    audit_record(
        actor=system,
        action="request.verification_planned",
        obj=request,
        data={"tasks": [str(t.public_id) for t in erase_tasks if not t.manual]},
    )
    for task in erase_tasks:
        if task.manual:
            continue
        _finished_task(
            request,
            task.connector,
            action="verify_erasure",
            per_location={
                table: {"found": 0, "changed": 0}
                for table in _COUNTS
                if table != "invoices"
            },
            actor=system,
        )
    have = audit_events_for_object(obj=request).count()
    for number in range(max(0, audit_events - have - 1)):
        request_add_note(
            actor=staff,
            request=request,
            text=f"Checked progress with the store owners (note {number + 1}).",
        )
    return request_close(actor=system, request=request, outcome="completed")
