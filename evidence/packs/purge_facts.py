"""The facts of one retention purge run's evidence pack (reads only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Model, Q

from audit.models import AuditEvent
from audit.selectors import audit_object_types
from dsr.models import LegalHold
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    integrity_at_generation,
    iso,
    pack_header,
)
from retention.choices import PolicyAction, RunStatus
from retention.models import PurgeRun, RetentionPolicy


def _object_type(model: type[Model]) -> str:
    return model._meta.label_lower


def purge_run_facts(
    *,
    run: PurgeRun,
    head: AuditEvent | None,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
) -> dict[str, Any]:
    """Every fact of a purge run's pack, JSON-ready, as of the chain `head`.

    The audit part covers the run's own events, the events of the holds it
    honoured (who placed them, on what basis) and of its policy (who approved
    each version of the settings it ran with)."""
    head_sequence = head.sequence if head is not None else 0
    hold_ids = [str(hold.get("id", "")) for hold in run.holds if hold.get("id")]
    scope = (
        Q(object_type=_object_type(PurgeRun), object_id=str(run.public_id))
        | Q(object_type__in=audit_object_types(LegalHold), object_id__in=hold_ids)
        | Q(
            object_type=_object_type(RetentionPolicy),
            object_id=str(run.policy.public_id),
        )
    )
    events = list(
        AuditEvent.objects.filter(scope, sequence__lte=head_sequence).order_by(
            "sequence"
        )
    )
    labels = actor_labels([e.actor for e in events] + [run.triggered_by, generated_by])
    tables = [
        {
            "table": table,
            "examined": int(counts.get("examined", 0)),
            "changed": int(counts.get("changed", 0)),
            "skipped_held": int(counts.get("skipped_held", 0)),
        }
        for table, counts in sorted((run.tables or {}).items())
    ]
    snapshot = dict(run.policy_snapshot or {})
    action = str(snapshot.get("action", ""))
    return {
        "kind": "purge_run",
        "pack": pack_header(
            pack_id=pack_id, generated_at=generated_at, generated_by=generated_by
        ),
        "settings": {
            "policy": {
                "version": run.policy_version,
                "snapshot": snapshot,
            }
        },
        "run": {
            "id": str(run.public_id),
            "policy": run.policy.name,
            "policy_id": str(run.policy.public_id),
            "action": action,
            "action_label": (
                PolicyAction(action).label if action in PolicyAction.values else action
            ),
            "dry_run": run.dry_run,
            "status": run.status,
            "status_label": RunStatus(run.status).label,
            "cutoff": iso(run.cutoff),
            "max_age_days": snapshot.get("max_age_days"),
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "duration_seconds": run.duration_seconds,
            "batches": run.batches,
            "longest_batch_ms": run.longest_batch_ms,
            "longest_transaction_ms": run.longest_transaction_ms,
            "peak_rss_kb": run.peak_rss_kb,
            "triggered_by": run.triggered_by,
            "resumed_count": run.resumed_count,
            "completed": bool((run.checkpoint or {}).get("done")),
        },
        "tables": tables,
        "totals": run.totals(),
        "holds": [
            {
                "id": str(hold.get("id", "")),
                "scope": str(hold.get("scope", "")),
                "subject": str(hold.get("subject", "")),
                "connector": str(hold.get("connector", "")),
                "table": str(hold.get("table", "")),
                "legal_basis": str(hold.get("legal_basis", "")),
                "reason": str(hold.get("reason", "")),
                "starts_at": str(hold.get("starts_at", "")),
                "ends_at": str(hold.get("ends_at", "")),
            }
            for hold in run.holds
        ],
        "errors": [
            {
                "at": str(error.get("at", "")),
                "message": str(error.get("message", "")),
                "permanent": bool(error.get("permanent")),
            }
            for error in run.errors
        ],
        "audit": {
            "scope": {
                "object_type": _object_type(PurgeRun),
                "object_id": str(run.public_id),
                "holds": hold_ids,
                "policy": str(run.policy.public_id),
            },
            "events": [audit_event_facts(e) for e in events],
            "chain_head": chain_head_facts(head),
            "integrity_at_generation": integrity_at_generation(events),
        },
        "actors": labels,
    }
