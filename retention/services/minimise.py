"""The built-in policy: Privacy Desk minimises its own data.

Once a request has been closed for longer than SELF_RETENTION_DAYS (CCPA
requests: at least 24 months, CCPA regulations section 7101), it keeps its
evidence (reference, kind, regime, dates, statuses, tasks with their counts,
digests and exemptions, the audit trail) and a pseudonymous subject
reference, and loses what names the person:

- the request's identity, details and corrections, in the row *and* in its
  django-simple-history rows (history keeps copies);
- staff notes' text, verification challenges, the access results each task
  wrote to storage, erasure receipts (what an erasure knew of the subject),
  and the access package ZIP;
- the subject's identifiers (and their history rows), once no request of
  theirs is still open or unminimised and no consent event needs them to
  prove consent (consent events themselves are never touched).

A subject under an active legal hold is left alone. Requests are handled in
batches by primary key, each batch one transaction, with the run's
checkpoint moved after each, like any other purge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from audit.services import audit_record
from connectors.base import BatchResult, TableCounts
from consent.models import ConsentEvent
from dsr.choices import CLOSED_STATUSES, Regime
from dsr.models import (
    AccessPackage,
    LegalHold,
    Request,
    RequestNote,
    RequestTask,
    VerificationChallenge,
)
from dsr.selectors import holds_active
from dsr.services.packages import access_packages_purge_expired
from retention.models import MinimisedRequest, PurgeRun
from retention.selectors import hold_summary
from retention.services.progress import purge_run_batch_record, purge_run_held_record
from subjects.models import SubjectIdentifier

TOMBSTONE: dict[str, Any] = {"minimised": True}
NOTE_TOMBSTONE = "[removed by the retention policy]"
CCPA_MIN_DAYS = 730  # 24 months
REQUESTS = "dsr_request"
TABLES = (
    REQUESTS,
    "dsr_historicalrequest",
    "dsr_requestnote",
    "dsr_verificationchallenge",
    "dsr_requesttask.result_file",
    "dsr_requesttask.erasure_receipt",
    "dsr_subjectidentifier",
    "dsr_historicalsubjectidentifier",
    "evidence_accesspackage",
)


def _candidates(run: PurgeRun) -> QuerySet[Request]:
    """Closed requests past their retention, not yet minimised."""
    days = int(run.policy_snapshot.get("max_age_days") or 0)
    cutoff = run.cutoff
    ccpa_cutoff = run.started_at - timedelta(days=max(days, CCPA_MIN_DAYS))
    return (
        Request.objects.filter(status__in=CLOSED_STATUSES, closed_at__isnull=False)
        .filter(
            Q(regime=Regime.CCPA, closed_at__lt=ccpa_cutoff)
            | (~Q(regime=Regime.CCPA) & Q(closed_at__lt=cutoff))
        )
        .exclude(pk__in=MinimisedRequest.objects.values("request_id"))
    )


def self_minimise_run(
    *, run: PurgeRun, on_batch: Callable[[PurgeRun], None] | None = None
) -> None:
    """The built-in policy's purge, recorded on `run` (dry or real)."""
    holds = [h for h in holds_active() if h.subject_id is not None]
    run.holds = [hold_summary(hold) for hold in holds]
    held_subjects = {hold.subject_id for hold in holds}
    for table in TABLES:
        run.tables.setdefault(table, {"examined": 0, "changed": 0, "skipped_held": 0})
    checkpoint = dict(run.checkpoint or {})
    if "upper_key" not in checkpoint:
        upper = Request.objects.aggregate(top=Max("pk"))["top"]
        checkpoint = {"table": REQUESTS, "after_key": None, "upper_key": upper}
        checkpoint["done"] = False
    run.checkpoint = checkpoint
    run.save(update_fields=["holds", "tables", "checkpoint", "updated_at"])
    if checkpoint.get("done") or checkpoint["upper_key"] is None:
        return
    candidates = _candidates(run).filter(pk__lte=checkpoint["upper_key"])
    work = candidates.exclude(subject_id__in=held_subjects)
    batch_size = int(run.policy_snapshot.get("batch_size") or 500)
    after = checkpoint.get("after_key")
    while True:
        started = time.monotonic()
        page = work.order_by("pk")
        if after is not None:
            page = page.filter(pk__gt=after)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        counts, transaction_ms = _minimise(ids, run=run, write=not run.dry_run)
        batch = BatchResult(
            last_key=ids[-1],
            counts=counts,
            transaction_ms=transaction_ms,
            batch_ms=int((time.monotonic() - started) * 1000),
        )
        purge_run_batch_record(run=run, batch=batch)
        if on_batch is not None:
            on_batch(run)
        after = ids[-1]
        if len(ids) < batch_size:
            break
    expired = _expired_packages(write=not run.dry_run)
    if expired:
        entry = run.tables["evidence_accesspackage"]
        entry["examined"] += expired
        entry["changed"] += expired
    held = candidates.filter(subject_id__in=held_subjects).count()
    purge_run_held_record(run=run, held={REQUESTS: held})


def _minimise(
    ids: list[int], *, run: PurgeRun, write: bool
) -> tuple[dict[str, TableCounts], int]:
    requests = Request.objects.filter(pk__in=ids)
    history = Request.history.model.objects.filter(id__in=ids)
    notes = RequestNote.objects.filter(request_id__in=ids)
    challenges = VerificationChallenge.objects.filter(request_id__in=ids)
    results = RequestTask.objects.filter(request_id__in=ids).exclude(result_file="")
    receipts = RequestTask.objects.filter(
        request_id__in=ids, erasure_receipt__isnull=False
    )

    packages = AccessPackage.objects.filter(request_id__in=ids).exclude(file="")
    subjects = _subjects_to_forget(ids)
    identifiers = SubjectIdentifier.objects.filter(subject_id__in=subjects)
    identifier_history = SubjectIdentifier.history.model.objects.filter(
        subject_id__in=subjects
    )
    found = {
        REQUESTS: len(ids),
        "dsr_historicalrequest": history.count(),
        "dsr_requestnote": notes.count(),
        "dsr_verificationchallenge": challenges.count(),
        "dsr_requesttask.result_file": results.count(),
        "dsr_requesttask.erasure_receipt": receipts.count(),
        "dsr_subjectidentifier": identifiers.count(),
        "dsr_historicalsubjectidentifier": identifier_history.count(),
        "evidence_accesspackage": packages.count(),
    }
    counts = {table: TableCounts(count, count) for table, count in found.items()}
    if not write:
        return counts, 0
    started = time.monotonic()
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            Request.objects.select_for_update()
            .filter(pk__in=ids)
            .only("pk", "public_id", "reference")
        )
        requests.update(identity=TOMBSTONE, details="", corrections=None)
        history.update(identity=TOMBSTONE, details="", corrections=None)
        notes.update(text=NOTE_TOMBSTONE)
        challenges.delete()
        files = list(results.values_list("result_file", flat=True))
        results.update(result_file="")
        receipts.update(erasure_receipt=None)
        files += list(packages.values_list("file", flat=True))
        packages.update(file="", purged_at=now)
        # Deleting an identifier writes a history row holding its value:
        # the identifiers go first, then every history row, those included.
        identifiers.delete()
        identifier_history.delete()
        MinimisedRequest.objects.bulk_create(
            [MinimisedRequest(request_id=pk, run=run, minimised_at=now) for pk in ids]
        )
        for request in locked:
            audit_record(
                actor=run.triggered_by,
                action="request.minimised",
                obj=request,
                data={"run": str(run.public_id), "policy_version": run.policy_version},
            )

        def remove_files() -> None:
            for name in files:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(remove_files)
    return counts, int((time.monotonic() - started) * 1000)


def _subjects_to_forget(ids: list[int]) -> list[int]:
    """Subjects of these requests whose identifiers nothing needs any more:
    every request of theirs is in this batch or already minimised, and no
    consent event of theirs needs them to prove consent."""
    subjects = set(
        Request.objects.filter(pk__in=ids).values_list("subject_id", flat=True)
    )
    if not subjects:
        return []
    still_needed = set(
        Request.objects.filter(subject_id__in=subjects)
        .exclude(pk__in=ids)
        .exclude(pk__in=MinimisedRequest.objects.values("request_id"))
        .values_list("subject_id", flat=True)
    )
    consented = set(
        ConsentEvent.objects.filter(subject_id__in=subjects).values_list(
            "subject_id", flat=True
        )
    )
    held = set(
        LegalHold.objects.filter(subject_id__in=subjects)
        .filter(pk__in=holds_active().values("pk"))
        .values_list("subject_id", flat=True)
    )
    return sorted(subjects - still_needed - consented - held)


def _expired_packages(*, write: bool) -> int:
    """Access package ZIPs past their end date (the rows stay as evidence)."""

    if not write:
        return (
            AccessPackage.objects.filter(expires_at__lte=timezone.now())
            .exclude(file="")
            .count()
        )
    return access_packages_purge_expired()
