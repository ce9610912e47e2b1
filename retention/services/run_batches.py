"""The work of a purge run: the store's purge batch by batch from the run's
checkpoint (or the built-in policy's self-minimisation), each batch recorded
as it ends (`progress`); a dry run only counts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from connectors.base import ConnectorError, PurgeSpec
from retention.choices import RunStatus
from retention.models import PurgeRun
from retention.selectors import held_scope_for, hold_summary
from retention.services.minimise import self_minimise_run
from retention.services.progress import (
    purge_run_batch_record,
    purge_run_held_record,
)
from retention.services.run_endings import purge_run_end, run_error

logger = logging.getLogger(__name__)

OnBatch = Callable[[PurgeRun], None]


def purge_run_execute(run: PurgeRun, *, on_batch: OnBatch | None) -> PurgeRun:
    """Do a started (or resumed) run's work and end it; a connector error
    that retrying may cure leaves it interrupted, any other failed."""
    try:
        if run.policy.builtin:
            self_minimise_run(run=run, on_batch=on_batch)
        else:
            _purge_store(run, on_batch=on_batch)
    except ConnectorError as error:
        status = RunStatus.FAILED if error.permanent else RunStatus.INTERRUPTED
        return purge_run_end(run, status, run_error(error.message, error.permanent))
    except Exception as error:  # unknown: record its type only, never its text
        logger.exception("purge run %s failed unexpectedly", run.pk)
        return purge_run_end(
            run, RunStatus.FAILED, run_error(type(error).__name__, True)
        )
    return purge_run_end(run, RunStatus.SUCCEEDED)


def spec_for(run: PurgeRun) -> PurgeSpec:
    """The purge as the policy stood when the run began."""
    snapshot = run.policy_snapshot
    return PurgeSpec(
        table=snapshot["table"],
        age_column=snapshot["age_column"],
        cutoff=run.cutoff,
        action=snapshot["action"],
        fields=tuple(snapshot.get("fields") or ()),
        children=bool(snapshot.get("apply_to_children", True)),
        batch_size=int(snapshot.get("batch_size") or 5000),
        lock_timeout_ms=settings.RETENTION_LOCK_TIMEOUT_MS,
    )


def _purge_store(run: PurgeRun, *, on_batch: OnBatch | None) -> None:
    connector = run.policy.connector
    if connector is None:
        raise ConnectorError("the policy names no connector", permanent=True)
    held, holds = held_scope_for(policy=run.policy)
    run.holds = [hold_summary(hold) for hold in holds]
    run.save(update_fields=["holds", "updated_at"])
    # A kind that cannot purge raises a permanent ConnectorError here.
    with connector.instance().purge(spec_for(run), held) as store_purge:
        store_purge.check()
        checkpoint = dict(run.checkpoint or {})
        if "upper_key" not in checkpoint:
            checkpoint = {
                "table": run.policy_snapshot["table"],
                "after_key": None,
                "upper_key": store_purge.upper_key(),  # JSON-safe
                "done": False,
            }
            run.checkpoint = checkpoint
            run.save(update_fields=["checkpoint", "updated_at"])
        upper = checkpoint["upper_key"]
        if run.dry_run:
            counts = store_purge.count(upper_key=upper)
            for table, entry in counts.items():
                run.tables[table] = entry.as_dict()
            run.save(update_fields=["tables", "updated_at"])
            return
        if checkpoint.get("done"):
            return
        for batch in store_purge.batches(
            after_key=checkpoint.get("after_key"), upper_key=upper
        ):
            purge_run_batch_record(run=run, batch=batch)
            if on_batch is not None:
                on_batch(run)
        purge_run_held_record(run=run, held=store_purge.held_counts(upper_key=upper))
