"""The facts of a records-of-processing PDF: the record, and the audit events
of every change to the officer's part, in the evidence packs' shape (`pack`,
`audit`, `actors`), so `verify_evidence` checks it like any pack."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.models import AuditEvent
from audit.selectors import audit_object_types
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    integrity_at_generation,
    pack_header,
)
from records.models import Activity, ProcessingRecord, Recipient
from records.selectors.facts import Record
from records.selectors.record import record_as_dict, record_digest

KIND = "records_of_processing"
TEMPLATE = "evidence/records_pack.html"
# Exports are events on the record too; a pack lists the changes only.
EXPORT_ACTIONS = ("evidence_pack.generated", "records.exported")


def record_change_types() -> list[str]:
    return [
        object_type
        for model in (ProcessingRecord, Activity, Recipient)
        for object_type in audit_object_types(model)
    ]


def records_pack_facts(
    *,
    record: Record,
    head: AuditEvent | None,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
) -> dict[str, Any]:
    head_sequence = head.sequence if head is not None else 0
    events = list(
        AuditEvent.objects.filter(
            object_type__in=record_change_types(), sequence__lte=head_sequence
        )
        .exclude(action__in=EXPORT_ACTIONS)
        .order_by("sequence")
    )
    return {
        "kind": KIND,
        "pack": pack_header(
            pack_id=pack_id,
            covers=f"records of processing, version {record.version}",
            generated_at=generated_at,
            generated_by=generated_by,
            controller=record.controller.name,
        ),
        "record": record_as_dict(record),
        "record_sha256": record_digest(record),
        "audit": {
            "scope": {"object_types": record_change_types()},
            "events": [audit_event_facts(event) for event in events],
            "chain_head": chain_head_facts(head),
            "integrity_at_generation": integrity_at_generation(events),
        },
        "actors": actor_labels([e.actor for e in events] + [generated_by]),
    }


def records_pack_headers(record: Record) -> tuple[str, str]:
    return (
        f"{record.controller.name} · Records of processing (GDPR Art. 30)",
        f"Version {record.version}",
    )
