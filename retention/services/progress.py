"""A purge run's progress, recorded batch by batch (for store purges and
the built-in self-minimisation alike)."""

from __future__ import annotations

from django.utils import timezone

from connectors.base import BatchResult
from retention.models import PurgeRun


def zero_counts() -> dict[str, int]:
    return {"examined": 0, "changed": 0, "skipped_held": 0}


def purge_run_batch_record(*, run: PurgeRun, batch: BatchResult) -> None:
    """Add one batch's counts and move the checkpoint past it (one UPDATE)."""
    for table, counts in batch.counts.items():
        entry = run.tables.setdefault(table, zero_counts())
        entry["examined"] += counts.examined
        entry["changed"] += counts.changed
        entry["skipped_held"] += counts.skipped_held
    run.batches += 1
    run.checkpoint["after_key"] = batch.last_key  # JSON-safe
    run.longest_batch_ms = max(run.longest_batch_ms, batch.batch_ms)
    run.longest_transaction_ms = max(run.longest_transaction_ms, batch.transaction_ms)
    run.heartbeat_at = timezone.now()
    run.save(
        update_fields=[
            "tables",
            "batches",
            "checkpoint",
            "longest_batch_ms",
            "longest_transaction_ms",
            "heartbeat_at",
            "updated_at",
        ]
    )


def purge_run_held_record(*, run: PurgeRun, held: dict[str, int]) -> None:
    """Rows left alone because of a hold, counted once when the run ends."""
    for table, skipped in held.items():
        entry = run.tables.setdefault(table, zero_counts())
        entry["skipped_held"] += skipped
        entry["examined"] += skipped
    run.checkpoint["done"] = True
    run.save(update_fields=["tables", "checkpoint", "updated_at"])
