"""Purge runs: start, resume, hand to a worker (`run_batches` does the work,
`run_endings` finishes and alerts).

Every run is a row. A real run checkpoints after each batch (the last key
done, and the highest key it will reach), so a run that died resumes where
it stopped: `purge_run_resume`, or simply the next run of the policy, which
picks up an interrupted run instead of starting over. Two real runs of one
policy at once are refused by a unique constraint on the running row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from privacydesk.errors import IllegalTransition
from retention.choices import ATTENTION_STATUSES, RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.services.confirmations import (
    Confirmation,
    dry_run_still_confirms,
    real_run_confirm,
)
from retention.services.policies import (
    policy_summary,
    policy_version,
    retention_builtin_ensure,
)
from retention.services.progress import zero_counts
from retention.services.run_batches import OnBatch, purge_run_execute
from retention.services.run_endings import SYSTEM, purge_run_after_end, run_error

# --- starting -----------------------------------------------------------------------


def purge_run_enqueue(
    *,
    actor: Actor,
    policy: RetentionPolicy,
    dry_run: bool,
    confirm_dry_run: Any = None,
    confirm: bool = False,
) -> Confirmation | None:
    """ "Run now" / "Dry run": hand the run to a worker (ids only).

    A real run needs the confirmation `confirmations.real_run_confirm`
    checks (the latest recent dry run of this policy version, named, and
    ticked); it returns what was confirmed."""
    actor.require(Perm.RETENTION_MANAGE)
    if not dry_run and _running(policy).exists():
        raise IllegalTransition(f"a run of {policy.name} is already running")
    confirmation = None
    with transaction.atomic():
        if not dry_run:
            confirmation = real_run_confirm(
                actor=actor,
                policy=policy,
                dry_run_id=confirm_dry_run,
                confirmed=confirm,
            )
        audit_record(
            actor=actor,
            action="retention.run_requested",
            obj=policy,
            data={
                "dry_run": dry_run,
                **(
                    {"confirmed_from": str(confirmation.dry_run.public_id)}
                    if confirmation
                    else {}
                ),
            },
        )
        confirmed_from = confirmation.dry_run.pk if confirmation else None

        def send() -> None:
            # Local: retention.tasks imports this module (task <-> service pair).
            from retention.tasks import purge_run_task

            purge_run_task.delay(
                policy.pk,
                dry_run=dry_run,
                triggered_by=actor.ref,
                confirmed_from=confirmed_from,
            )

        transaction.on_commit(send)
    return confirmation


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
    confirmed_from: PurgeRun | None = None,
) -> PurgeRun:
    """Run a policy now, in this process, and return the finished run.

    A real run first resumes the policy's interrupted run, if there is one
    (a run whose worker died counts as interrupted once it stops beating).
    `confirmed_from`: the dry run staff confirmed this real run against.
    (Whether a real run is allowed is the caller's: `purge_run_scheduled`
    for the worker; the `retention_run` command is the operator's.)"""
    actor.require(Perm.RETENTION_MANAGE)
    if policy.builtin:
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
                policy_snapshot=policy_summary(policy),
                tables={policy.table: zero_counts()},
                confirmed_from=None if dry_run else confirmed_from,
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
                    **(
                        {"confirmed_from": str(run.confirmed_from.public_id)}
                        if run.confirmed_from is not None
                        else {}
                    ),
                },
            )
    except IntegrityError as exc:
        raise IllegalTransition(f"a run of {policy.name} is already running") from exc
    return purge_run_execute(run, on_batch=on_batch)


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
    return purge_run_execute(run, on_batch=on_batch)


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
                run_error("the run stopped reporting progress (worker lost)", False),
            ],
        )
        if moved:
            marked += 1
            run.refresh_from_db()
            purge_run_after_end(run)
    return marked


# --- what the tasks call -------------------------------------------------------


def purge_run_scheduled(
    *,
    policy_id: int,
    dry_run: bool = False,
    triggered_by: str = "system:beat",
    confirmed_from: int | None = None,
) -> str:
    """A run handed to a worker (by beat or by "Run now"); safe to deliver
    twice: a second delivery finds the run going and is refused.

    A real run goes ahead only with the dry run staff confirmed it against
    (still of the policy's current version), or, on the schedule, for a
    policy whose real runs staff have confirmed; beat dry-runs any other."""
    policy = RetentionPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return "no-such-policy"
    if triggered_by == "system:beat" and not policy.enabled:
        return "disabled"
    confirmed: PurgeRun | None = None
    prefix = ""
    if not dry_run and confirmed_from is not None:
        if not dry_run_still_confirms(policy=policy, dry_run_id=confirmed_from):
            audit_record(
                actor=SYSTEM,
                action="retention.run_refused",
                obj=policy,
                data={"reason": "the confirmed dry run no longer stands"},
            )
            return "confirmation-stale"
        confirmed = PurgeRun.objects.get(pk=confirmed_from)
    elif not dry_run and policy.real_runs_confirmed_at is None:
        dry_run, prefix = True, "dry-run-only:"
    try:
        run = purge_run_start(
            actor=SYSTEM,
            policy=policy,
            dry_run=dry_run,
            triggered_by=triggered_by,
            confirmed_from=confirmed,
        )
    except IllegalTransition:
        return "already-running"
    return prefix + str(run.status)


def purge_runs_sweep() -> int:
    """Beat's housekeeping: runs whose worker died become interrupted (and
    alert); the built-in policy exists."""
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
            # Local: retention.tasks imports this module (task <-> service pair).
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
