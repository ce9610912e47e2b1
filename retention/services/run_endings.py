"""How a purge run ends: its status and errors recorded, the audit event, the
officers' alert when it needs attention, and the evidence pack every real
run leaves."""

from __future__ import annotations

import resource
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_system
from audit.services import audit_record
from dsr.notifications import send_templated
from privacydesk.wiring import wired_tasks_send
from retention.choices import ATTENTION_STATUSES
from retention.models import PurgeRun

SYSTEM = actor_system("retention")


def peak_rss_kb() -> int:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_error(message: str, permanent: bool) -> dict[str, Any]:
    """One entry of a run's `errors` (whether retrying can help)."""
    return {
        "at": timezone.now().isoformat(),
        "message": message[:2000],
        "permanent": permanent,
    }


def purge_run_end(
    run: PurgeRun, status: str, error: dict[str, Any] | None = None
) -> PurgeRun:
    """Record how the run ended, then what follows an end."""
    run.status = status
    run.finished_at = timezone.now()
    run.peak_rss_kb = peak_rss_kb()
    if error is not None:
        run.errors = [*run.errors, error]
    run.save(
        update_fields=["status", "finished_at", "peak_rss_kb", "errors", "updated_at"]
    )
    purge_run_after_end(run)
    return run


def purge_run_after_end(run: PurgeRun) -> None:
    """The audit event of an ended run; after commit, the officers' alert (a
    real run needing attention) and the evidence pack (every real run)."""
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
                # Local: retention.tasks imports this module (task <-> service pair).
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
    run = PurgeRun.objects.select_related("policy").filter(pk=run_id).first()
    if run is None or not settings.PRIVACY_OFFICER_EMAILS:
        return False
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
