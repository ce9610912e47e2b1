"""Reads of retention: policies, holds and runs, checked against who asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.base import HeldScope
from connectors.models import Connector
from connectors.registry import kinds_available
from dsr.models import LegalHold, Request
from dsr.selectors import hold_active_q, holds_active
from retention.choices import ATTENTION_STATUSES
from retention.models import PurgeRun, RetentionPolicy
from subjects.models import DataSubject
from subjects.selectors import subjects_identity

# --- policies -------------------------------------------------------------------


def policy_list(*, actor: Actor) -> QuerySet[RetentionPolicy]:
    actor.require(Perm.RETENTION_VIEW)
    return RetentionPolicy.objects.select_related("connector", "periodic_task")


def policy_get(
    *, actor: Actor, public_id: str, manage: bool = False
) -> RetentionPolicy:
    """One policy by its public id; `manage=True` for a caller about to
    change or run it (a write token need not also hold the read scope)."""
    actor.require(Perm.RETENTION_MANAGE if manage else Perm.RETENTION_VIEW)
    return RetentionPolicy.objects.select_related("connector", "periodic_task").get(
        public_id=public_id
    )


def policy_last_runs(
    *, policies: Iterable[RetentionPolicy]
) -> dict[int, PurgeRun | None]:
    """The latest run (real or dry) of each policy."""
    ids = [policy.pk for policy in policies]
    latest = PurgeRun.objects.filter(
        pk=Subquery(
            PurgeRun.objects.filter(policy_id=OuterRef("policy_id"))
            .order_by("-started_at", "-pk")
            .values("pk")[:1]
        ),
        policy_id__in=ids,
    )
    found: dict[int, PurgeRun | None] = dict.fromkeys(ids)
    for run in latest:
        found[run.policy_id] = run
    return found


def policy_next_run_at(
    *, policy: RetentionPolicy, now: datetime | None = None
) -> datetime | None:
    """When beat will next start this policy (None when it will not)."""
    task = policy.periodic_task
    if task is None or not policy.enabled or not task.enabled:
        return None
    now = now or timezone.now()
    due = now + task.schedule.remaining_estimate(task.last_run_at or now)
    # Schedules fire on whole minutes; the estimate drifts by microseconds.
    return (due + timedelta(seconds=30)).replace(second=0, microsecond=0)


def policies_needing_attention() -> QuerySet[RetentionPolicy]:
    """Policies whose latest real run failed or was interrupted (a later
    successful run clears them): the dashboard banner and the alert list."""
    latest_status = (
        PurgeRun.objects.filter(policy_id=OuterRef("pk"), dry_run=False)
        .order_by("-started_at", "-pk")
        .values("status")[:1]
    )
    return (
        RetentionPolicy.objects.annotate(last_real_status=Subquery(latest_status))
        .filter(last_real_status__in=ATTENTION_STATUSES)
        .order_by("name")
    )


# --- legal holds ------------------------------------------------------------------


def hold_list(*, actor: Actor, active: bool | None = None) -> QuerySet[LegalHold]:
    actor.require(Perm.RETENTION_VIEW)
    holds = LegalHold.objects.select_related("connector", "subject")
    if active is True:
        holds = holds.filter(hold_active_q())
    elif active is False:
        holds = holds.exclude(hold_active_q())
    return holds


def hold_get(*, actor: Actor, public_id: str, manage: bool = False) -> LegalHold:
    actor.require(Perm.RETENTION_MANAGE if manage else Perm.RETENTION_VIEW)
    return LegalHold.objects.select_related("connector", "subject").get(
        public_id=public_id
    )


def held_scope_for(*, policy: RetentionPolicy) -> tuple[HeldScope, list[LegalHold]]:
    """What a purge under `policy` must leave alone, and the holds behind it.

    Subject holds become the subjects' identifiers (decrypted, in memory
    only), matched inside the purge's statements; a connector hold holds
    every table of the store, a table hold that table."""
    active = holds_active()
    holds = list(
        active.filter(
            Q(subject__isnull=False) | Q(connector_id=policy.connector_id)
        ).order_by("starts_at", "pk")
    )
    tables: set[str] = set()
    subject_ids: list[int] = []
    everything = False
    for hold in holds:
        if hold.subject_id is not None:
            subject_ids.append(hold.subject_id)
        elif hold.table:
            tables.add(hold.table)
        else:
            everything = True
    scope = HeldScope(
        identity=subjects_identity(subject_ids=subject_ids),
        tables=frozenset(tables),
        everything=everything,
    )
    return scope, holds


def hold_summary(hold: LegalHold) -> dict[str, str]:
    """What a run or an exemption records about a hold (no personal data)."""
    return {
        "id": str(hold.public_id),
        "scope": hold.scope,
        "subject": hold.subject.pseudonym if hold.subject is not None else "",
        "connector": hold.connector.name if hold.connector is not None else "",
        "table": hold.table,
        "legal_basis": hold.legal_basis,
        "reason": hold.reason,
        "starts_at": hold.starts_at.isoformat(),
        "ends_at": hold.ends_at.isoformat() if hold.ends_at else "",
    }


# --- runs -------------------------------------------------------------------------


def run_list(
    *,
    actor: Actor,
    policy: RetentionPolicy | None = None,
    status: str | None = None,
    dry_run: bool | None = None,
) -> QuerySet[PurgeRun]:
    actor.require(Perm.RETENTION_VIEW)
    runs = PurgeRun.objects.select_related("policy")
    if policy is not None:
        runs = runs.filter(policy=policy)
    if status:
        runs = runs.filter(status=status)
    if dry_run is not None:
        runs = runs.filter(dry_run=dry_run)
    return runs


def run_get(*, actor: Actor, public_id: str) -> PurgeRun:
    actor.require(Perm.RETENTION_VIEW)
    return PurgeRun.objects.select_related("policy", "policy__connector").get(
        public_id=public_id
    )


# --- lookups for writes ------------------------------------------------------------


def policy_connector_get(*, actor: Actor, public_id: str) -> Connector:
    """The connector a policy or hold is about to name."""
    actor.require(Perm.RETENTION_MANAGE)
    return Connector.objects.get(public_id=public_id)


def hold_subject_of_request(*, actor: Actor, public_id: str) -> DataSubject:
    """The subject of a request, to place a hold on (by the request's id)."""
    actor.require(Perm.RETENTION_MANAGE)
    return Request.objects.select_related("subject").get(public_id=public_id).subject


def policy_connector_choices(*, actor: Actor) -> QuerySet[Connector]:
    """Connectors a policy may name: those whose kind can purge by age."""
    actor.require(Perm.RETENTION_MANAGE)
    kinds = [kind for kind, cls in kinds_available().items() if cls.purges]
    return Connector.objects.filter(kind__in=kinds).order_by("name")


def hold_subject_by_reference(*, actor: Actor, reference: str) -> DataSubject:
    """The subject of the request with this reference (e.g. DSR-2026-000123)."""
    actor.require(Perm.RETENTION_MANAGE)
    return (
        Request.objects.select_related("subject")
        .get(reference__iexact=reference.strip())
        .subject
    )


def hold_connector_choices(*, actor: Actor) -> QuerySet[Connector]:
    actor.require(Perm.RETENTION_MANAGE)
    return Connector.objects.order_by("name")
