"""Confirming a real purge against a dry run's counts (issue 16).

A purge cannot be undone, so a real run started by staff needs a dry run of
the same policy version (any edit since makes it stale) that finished in the
last `RETENTION_CONFIRM_WITHIN_HOURS` hours (24), and a confirmation that names
that dry run. The confirmation page and the API show its counts per store
and table ("This will delete 1,594 rows in helpdesk …; dry run at 14:02 by
ana").

Beat runs a policy for real only once staff have confirmed a real run of it:
a new policy, and one whose scope changed since, is dry-run only on its
schedule (each scheduled run is a dry run, so a fresh one is there to
confirm). The built-in policy (Privacy Desk's own requests, scope fixed by
the code) is confirmed when it is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from privacydesk.errors import ValidationFailed
from retention.choices import PolicyAction, RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.services.policies import policy_version

# What a real run does to a row, for the sentence the officer confirms.
_VERBS: dict[str, str] = {
    PolicyAction.DELETE: "delete",
    PolicyAction.ANONYMIZE: "anonymize",
    PolicyAction.REDACT_PII: "redact personal data in",
}


@dataclass(frozen=True)
class Confirmation:
    """What a real run of a policy would do, from its confirmable dry run."""

    dry_run: PurgeRun
    store: str  # the connector's name ("Privacy Desk" for the built-in policy)
    verb: str
    changed: int  # rows (all tables)
    per_table: list[tuple[str, int]]  # [(table, rows that would change)]
    finished_at: datetime
    by: str  # actor ref of who started the dry run

    def sentence(self, by_label: str = "") -> str:
        rows = f"{self.changed:,} row{'s' if self.changed != 1 else ''}"
        tables = ", ".join(f"{table}: {count:,}" for table, count in self.per_table)
        when = timezone.localtime(self.finished_at).strftime("%d %b %Y %H:%M")
        return (
            f"This will {self.verb} {rows} in {self.store} ({tables}); "
            f"dry run at {when} by {by_label or self.by}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": str(self.dry_run.public_id),
            "store": self.store,
            "action": self.verb,
            "rows": self.changed,
            "tables": dict(self.per_table),
            "dry_run_finished_at": self.finished_at.isoformat(),
            "dry_run_by": self.by,
            "summary": self.sentence(),
        }


def confirm_window() -> timedelta:
    return timedelta(hours=settings.RETENTION_CONFIRM_WITHIN_HOURS)


def policy_confirmation(
    *, policy: RetentionPolicy, now: datetime | None = None
) -> Confirmation | None:
    """The newest dry run a real run of `policy` may be confirmed against:
    finished successfully, of the policy's current version, within the
    window. None when there is none (dry-run the policy first)."""
    now = now or timezone.now()
    run = (
        PurgeRun.objects.filter(
            policy=policy,
            dry_run=True,
            status=RunStatus.SUCCEEDED,
            policy_version=policy_version(policy),
            finished_at__gte=now - confirm_window(),
        )
        .order_by("-finished_at", "-pk")
        .first()
    )
    if run is None or run.finished_at is None:
        return None
    store = run.policy_snapshot.get("connector") or "Privacy Desk"
    return Confirmation(
        dry_run=run,
        store=str(store),
        verb=_VERBS.get(policy.action, policy.action),
        changed=run.totals()["changed"],
        per_table=[
            (table, int(counts.get("changed", 0)))
            for table, counts in sorted(run.tables.items())
        ],
        finished_at=run.finished_at,
        by=run.triggered_by,
    )


def real_run_confirm(
    *, actor: Actor, policy: RetentionPolicy, dry_run_id: Any, confirmed: bool
) -> Confirmation:
    """Check a staff confirmation of a real run and record it (the policy
    may then run for real on its schedule). Raises ValidationFailed naming
    the field: `confirm_dry_run` (no such confirmable dry run: none, stale,
    or made before the last edit) or `confirm` (not ticked)."""
    actor.require(Perm.RETENTION_MANAGE)
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy.pk)
        confirmation = policy_confirmation(policy=policy)
        hours = settings.RETENTION_CONFIRM_WITHIN_HOURS
        if confirmation is None:
            raise ValidationFailed(
                "a real run needs a dry run of this version of the policy that "
                f"finished in the last {hours} hours: dry-run it first",
                field="confirm_dry_run",
            )
        if not dry_run_id or str(dry_run_id) != str(confirmation.dry_run.public_id):
            raise ValidationFailed(
                "name the latest dry run of this version of the policy "
                f"({confirmation.dry_run.public_id}); an older one, or one made "
                "before the policy was last changed, does not count",
                field="confirm_dry_run",
            )
        if confirmed is not True:
            raise ValidationFailed(
                "confirm that the rows the dry run counted will be changed for good",
                field="confirm",
            )
        now = timezone.now()
        # An update, not a save: a save would write a history row, a new
        # policy version, and so make the dry run stale.
        RetentionPolicy.objects.filter(pk=policy.pk).update(
            real_runs_confirmed_at=now, real_runs_confirmed_by=actor.ref[:100]
        )
        policy.real_runs_confirmed_at = now
        policy.real_runs_confirmed_by = actor.ref[:100]
        audit_record(
            actor=actor,
            action="retention.real_run_confirmed",
            obj=policy,
            data={**confirmation.as_json(), "confirmed_by": actor.ref},
        )
    return confirmation


def dry_run_still_confirms(*, policy: RetentionPolicy, dry_run_id: int) -> bool:
    """For the worker about to start a confirmed run: the dry run it was
    confirmed against still stands (the policy was not changed since, and
    it is still recent)."""
    return PurgeRun.objects.filter(
        pk=dry_run_id,
        policy=policy,
        dry_run=True,
        status=RunStatus.SUCCEEDED,
        policy_version=policy_version(policy),
        finished_at__gte=timezone.now() - confirm_window(),
    ).exists()
