"""Purge runs: start, resume, record each batch, finish, alert.

Every run is a row. A real run checkpoints after each batch (the last key
done, and the highest key it will reach), so a run that died resumes where
it stopped: `purge_run_resume`, or simply the next run of the policy, which
picks up an interrupted run instead of starting over. Two real runs of one
policy at once are refused by a unique constraint on the running row.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import ConnectorError, PurgeSpec
from privacydesk.errors import IllegalTransition
from privacydesk.wiring import wired_tasks_send
from retention.choices import ATTENTION_STATUSES, RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.selectors import held_scope_for, hold_summary
from retention.services.minimise import self_minimise_run
from retention.services.policies import _summary, policy_version
from retention.services.progress import (
    purge_run_batch_record,
    purge_run_held_record,
    zero_counts,
)

logger = logging.getLogger(__name__)
SYSTEM = actor_system("retention")

OnBatch = Callable[[PurgeRun], None]


def peak_rss_kb() -> int:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# --- starting -----------------------------------------------------------------------


def purge_run_enqueue(*, actor: Actor, policy: RetentionPolicy, dry_run: bool) -> None:
    """ "Run now" / "Dry run": hand the run to a worker (ids only)."""
    actor.require(Perm.RETENTION_MANAGE)
    if not dry_run and _running(policy).exists():
        raise IllegalTransition(f"a run of {policy.name} is already running")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="retention.run_requested",
            obj=policy,
            data={"dry_run": dry_run},
        )

        def send() -> None:
            from retention.tasks import purge_run_task

            purge_run_task.delay(policy.pk, dry_run=dry_run, triggered_by=actor.ref)

        transaction.on_commit(send)


def _running(policy: RetentionPolicy) -> Any:
    return PurgeRun.objects.filter(
        policy=policy, dry_run=False, status=RunStatus.RUNNING
    )


def purge_run_start(
    *,
    actor: Actor,
    policy: RetentionPolicy,
    dry_run: bool = False,
    triggered_by: str = "",
    on_batch: OnBatch | None = None,
) -> PurgeRun:
    """Run a policy now, in this process, and return the finished run.

    A real run first resumes the policy's interrupted run, if there is one
    (a run whose worker died counts as interrupted once it stops beating)."""
    actor.require(Perm.RETENTION_MANAGE)
    if policy.builtin:
        from retention.services.policies import retention_builtin_ensure

        policy = retention_builtin_ensure()
    if not dry_run:
        purge_runs_mark_stale(policy=policy)
        interrupted = (
            PurgeRun.objects.filter(
                policy=policy, dry_run=False, status=RunStatus.INTERRUPTED
            )
            .order_by("-started_at", "-pk")
            .first()
        )
        if interrupted is not None:
            return purge_run_resume(actor=actor, run=interrupted, on_batch=on_batch)
    now = timezone.now()
    try:
        with transaction.atomic():
            run = PurgeRun.objects.create(
                policy=policy,
                dry_run=dry_run,
                status=RunStatus.RUNNING,
                cutoff=now - timedelta(days=policy.max_age_days),
                started_at=now,
                heartbeat_at=now,
                triggered_by=(triggered_by or actor.ref)[:100],
                policy_version=policy_version(policy),
                policy_snapshot=_summary(policy),
                tables={policy.table: zero_counts()},
            )
            audit_record(
                actor=actor,
                action="retention.run_started",
                obj=run,
                data={
                    "policy": str(policy.public_id),
                    "dry_run": dry_run,
                    "cutoff": run.cutoff,
                    "policy_version": run.policy_version,
                },
            )
    except IntegrityError as exc:
        raise IllegalTransition(f"a run of {policy.name} is already running") from exc
    return _execute(run, on_batch=on_batch)


def purge_run_resume(
    *, actor: Actor, run: PurgeRun, on_batch: OnBatch | None = None
) -> PurgeRun:
    """Continue an interrupted or failed real run from its checkpoint, with
    the cutoff and the policy as they were when it began."""
    actor.require(Perm.RETENTION_MANAGE)
    if run.dry_run:
        raise IllegalTransition("a dry run is not resumed: start a new one")
    now = timezone.now()
    try:
        with transaction.atomic():
            changed = PurgeRun.objects.filter(
                pk=run.pk, status__in=ATTENTION_STATUSES
            ).update(
                status=RunStatus.RUNNING,
                heartbeat_at=now,
                finished_at=None,
                resumed_count=F("resumed_count") + 1,
            )
            if changed != 1:
                raise IllegalTransition("only an interrupted or failed run resumes")
            audit_record(
                actor=actor,
                action="retention.run_resumed",
                obj=run,
                data={"checkpoint": run.checkpoint, "by": actor.ref},
            )
    except IntegrityError as exc:
        raise IllegalTransition(
            f"a run of {run.policy.name} is already running"
        ) from exc
    run.refresh_from_db()
    return _execute(run, on_batch=on_batch)


def purge_runs_mark_stale(*, policy: RetentionPolicy | None = None) -> int:
    """Running real runs that stopped beating: their worker died. They become
    interrupted (and alert), so the next run resumes them."""
    limit = timezone.now() - timedelta(seconds=settings.RETENTION_RUN_STALE_SECONDS)
    stale = PurgeRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=limit)
    if policy is not None:
        stale = stale.filter(policy=policy)
    marked = 0
    for run in stale.select_related("policy"):
        moved = PurgeRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.INTERRUPTED,
            finished_at=timezone.now(),
            errors=[
                *run.errors,
                _error("the run stopped reporting progress (worker lost)", False),
            ],
        )
        if moved:
            marked += 1
            run.refresh_from_db()
            _after_end(run)
    return marked


# --- running -------------------------------------------------------------------------


def _execute(run: PurgeRun, *, on_batch: OnBatch | None) -> PurgeRun:
    try:
        if run.policy.builtin:
            self_minimise_run(run=run, on_batch=on_batch)
        else:
            _purge_store(run, on_batch=on_batch)
    except ConnectorError as error:
        status = RunStatus.FAILED if error.permanent else RunStatus.INTERRUPTED
        return _end(run, status, _error(error.message, error.permanent))
    except Exception as error:  # unknown: record its type only, never its text
        logger.exception("purge run %s failed unexpectedly", run.pk)
        return _end(run, RunStatus.FAILED, _error(type(error).__name__, True))
    return _end(run, RunStatus.SUCCEEDED)


def _error(message: str, permanent: bool) -> dict[str, Any]:
    return {
        "at": timezone.now().isoformat(),
        "message": message[:2000],
        "permanent": permanent,
    }


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


# --- finishing -----------------------------------------------------------------------


def _end(run: PurgeRun, status: str, error: dict[str, Any] | None = None) -> PurgeRun:
    run.status = status
    run.finished_at = timezone.now()
    run.peak_rss_kb = peak_rss_kb()
    if error is not None:
        run.errors = [*run.errors, error]
    run.save(
        update_fields=["status", "finished_at", "peak_rss_kb", "errors", "updated_at"]
    )
    _after_end(run)
    return run


def _after_end(run: PurgeRun) -> None:
    totals = run.totals()
    with transaction.atomic():
        audit_record(
            actor=run.triggered_by or SYSTEM.ref,
            action=f"retention.run_{run.status}",
            obj=run,
            data={
                "policy": str(run.policy.public_id),
                "dry_run": run.dry_run,
                "tables": run.tables,
                "batches": run.batches,
                "holds": [hold["id"] for hold in run.holds],
                "error": run.errors[-1]["message"] if run.errors else "",
                **totals,
            },
        )
        if run.status in ATTENTION_STATUSES and not run.dry_run:
            run_id = run.pk

            def send() -> None:
                from retention.tasks import purge_run_alert_task

                purge_run_alert_task.delay(run_id)

            transaction.on_commit(send)
        if not run.dry_run:
            # Every real run leaves an evidence pack (purges must be provable).
            finished_id = run.pk

            def pack() -> None:
                # settings.PURGE_RUN_ENDED_TASKS: the evidence pack's task
                wired_tasks_send("PURGE_RUN_ENDED_TASKS", args=[finished_id])

            transaction.on_commit(pack)


def purge_run_alert_send(*, run_id: int) -> bool:
    """E-mail the privacy officers that a run failed (references only)."""
    from dsr.notifications import send_templated

    run = PurgeRun.objects.select_related("policy").filter(pk=run_id).first()
    if run is None or not settings.PRIVACY_OFFICER_EMAILS:
        return False
    from django.urls import reverse

    send_templated(
        name="officer_purge_failed",
        to=list(settings.PRIVACY_OFFICER_EMAILS),
        context={
            "run": run,
            "policy": run.policy,
            "error": run.errors[-1]["message"] if run.errors else "",
            "totals": run.totals(),
            "run_url": settings.SITE_URL
            + reverse("dashboard:retention_run_detail", args=[run.public_id]),
        },
    )
    return True


# --- what the tasks call -------------------------------------------------------


def purge_run_scheduled(
    *, policy_id: int, dry_run: bool = False, triggered_by: str = "system:beat"
) -> str:
    """A run handed to a worker (by beat or by "Run now"); safe to deliver
    twice: a second delivery finds the run going and is refused."""
    policy = RetentionPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return "no-such-policy"
    if triggered_by == "system:beat" and not policy.enabled:
        return "disabled"
    try:
        run = purge_run_start(
            actor=SYSTEM, policy=policy, dry_run=dry_run, triggered_by=triggered_by
        )
    except IllegalTransition:
        return "already-running"
    return str(run.status)


def purge_runs_sweep() -> int:
    """Beat's housekeeping: runs whose worker died become interrupted (and
    alert); the built-in policy exists."""
    from retention.services.policies import retention_builtin_ensure

    retention_builtin_ensure()
    return purge_runs_mark_stale()


def purge_run_resume_enqueue(*, actor: Actor, run: PurgeRun) -> None:
    """ "Resume": hand an interrupted or failed run back to a worker."""
    actor.require(Perm.RETENTION_MANAGE)
    if run.dry_run or run.status not in ATTENTION_STATUSES:
        raise IllegalTransition("only an interrupted or failed real run resumes")
    with transaction.atomic():
        audit_record(actor=actor, action="retention.resume_requested", obj=run, data={})
        run_id = run.pk

        def send() -> None:
            from retention.tasks import purge_run_resume_task

            purge_run_resume_task.delay(run_id)

        transaction.on_commit(send)


def purge_run_resume_scheduled(*, run_id: int) -> str:
    run = PurgeRun.objects.select_related("policy").filter(pk=run_id).first()
    if run is None:
        return "no-such-run"
    try:
        run = purge_run_resume(actor=SYSTEM, run=run)
    except IllegalTransition:
        return "not-resumable"
    return str(run.status)
