"""Writes of retention policies and their beat schedules.

Every change is versioned twice: a django-simple-history row (the version a
purge run cites) and an audit event naming who approved it and what changed.
The schedule lives on the policy as crontab text and is mirrored into a
django-celery-beat PeriodicTask, which beat reads (`schedules`); the input
rules are in `policy_rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.models import Connector
from privacydesk.errors import ValidationFailed
from retention.choices import PolicyAction
from retention.models import RetentionPolicy
from retention.services.policy_rules import (
    DEFAULT_SCHEDULE,
    MAX_AGE_DAYS,
    MAX_BATCH,
    MIN_BATCH,
    policy_clean,
    schedule_parts,
    whole_number_clean,
)
from retention.services.schedules import policy_schedule_sync

BUILTIN_NAME = "Privacy Desk requests (built-in)"
BUILTIN_SCHEDULE = "15 3 * * *"
# What the built-in policy removes from a closed request (see minimise.py).
BUILTIN_FIELDS = [
    "identity",
    "details",
    "corrections",
    "notes",
    "verification_challenges",
    "subject_identifiers",
    "task_results",
    "access_packages",
]
EDITABLE = (
    "name",
    "description",
    "connector",
    "table",
    "category",
    "age_column",
    "max_age_days",
    "action",
    "fields",
    "apply_to_children",
    "enabled",
    "schedule",
    "batch_size",
)
# A policy's scope: changing any of these makes the policy dry-run only on
# its schedule again, until staff confirm a real run (`confirmations`).
SCOPE_FIELDS = (
    "connector",
    "table",
    "age_column",
    "max_age_days",
    "action",
    "fields",
    "apply_to_children",
)
# The built-in policy's scope is fixed by the code and its age by settings.
BUILTIN_EDITABLE = ("description", "enabled", "schedule", "batch_size")


def policy_summary(policy: RetentionPolicy) -> dict[str, Any]:
    """The policy as a run snapshots it and an audit event compares it."""
    return {
        "name": policy.name,
        "connector": policy.connector.name if policy.connector is not None else "",
        "table": policy.table,
        "category": policy.category,
        "age_column": policy.age_column,
        "max_age_days": policy.max_age_days,
        "action": policy.action,
        "fields": list(policy.fields),
        "apply_to_children": policy.apply_to_children,
        "enabled": policy.enabled,
        "schedule": policy.schedule,
        "batch_size": policy.batch_size,
        "builtin": policy.builtin,
    }


def policy_version(policy: RetentionPolicy) -> int | None:
    """The id of the policy's latest history row: the version runs cite."""
    latest = policy.history.order_by("-history_id").values("history_id").first()
    return latest["history_id"] if latest else None


def _save_versioned(policy: RetentionPolicy, reason: str) -> None:
    # django-simple-history reads the reason for the history row off the instance.
    policy._change_reason = reason[:100] if reason else ""  # type: ignore[attr-defined]  # not a model field
    policy.save()


# --- services ---------------------------------------------------------------------


def retention_policy_create(
    *,
    actor: Actor,
    name: str,
    connector: Connector,
    table: str,
    age_column: str,
    max_age_days: int,
    action: str,
    fields: Sequence[str] = (),
    description: str = "",
    category: str = "",
    apply_to_children: bool = True,
    enabled: bool = True,
    schedule: str = DEFAULT_SCHEDULE,
    batch_size: int = 5000,
    reason: str = "",
) -> RetentionPolicy:
    """Add a policy and its schedule (daily at 03:00 unless told otherwise)."""
    actor.require(Perm.RETENTION_MANAGE)
    clean = policy_clean(
        {
            "name": name,
            "connector": connector,
            "table": table,
            "age_column": age_column,
            "max_age_days": max_age_days,
            "action": action,
            "fields": list(fields),
            "description": description,
            "category": category,
            "apply_to_children": apply_to_children,
            "enabled": enabled,
            "schedule": schedule,
            "batch_size": batch_size,
        },
        exclude_pk=None,
    )
    with transaction.atomic():
        policy = RetentionPolicy(**clean)
        _save_versioned(policy, reason or "created")
        policy_schedule_sync(policy)
        audit_record(
            actor=actor,
            action="retention.policy_created",
            obj=policy,
            data={
                "policy": policy_summary(policy),
                "version": policy_version(policy),
                "approved_by": actor.ref,
                "reason": reason,
            },
        )
    return policy


def retention_policy_update(
    *, actor: Actor, policy: RetentionPolicy, reason: str = "", **changes: Any
) -> RetentionPolicy:
    """Change a policy; only the keys given change. The built-in policy
    takes only a description, the schedule, the batch size and on/off."""
    actor.require(Perm.RETENTION_MANAGE)
    allowed = BUILTIN_EDITABLE if policy.builtin else EDITABLE
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        message = (
            "the built-in policy's scope is fixed; its age is set by "
            "SELF_RETENTION_DAYS"
            if policy.builtin
            else "cannot be changed"
        )
        raise ValidationFailed(message, field=unknown[0])
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy.pk)
        before = policy_summary(policy)
        if policy.builtin:
            values = {key: getattr(policy, key) for key in BUILTIN_EDITABLE}
            values.update(changes)
            if "schedule" in changes:
                schedule_parts(values["schedule"])
                values["schedule"] = " ".join(values["schedule"].split())
            values["batch_size"] = whole_number_clean(
                values["batch_size"], "batch_size", MIN_BATCH, MAX_BATCH
            )
            values["enabled"] = bool(values["enabled"])
            values["description"] = str(values["description"] or "").strip()
        else:
            values = {key: getattr(policy, key) for key in EDITABLE}
            values.update(changes)
            values = policy_clean(values, exclude_pk=policy.pk)
        for key, value in values.items():
            setattr(policy, key, value)
        after = policy_summary(policy)
        changed = {
            key: [before[key], after[key]] for key in after if before[key] != after[key]
        }
        if not changed:
            return policy
        rescoped = not policy.builtin and any(key in changed for key in SCOPE_FIELDS)
        if rescoped and policy.real_runs_confirmed_at is not None:
            # What beat would delete changed: dry-run only until confirmed again.
            policy.real_runs_confirmed_at = None
            policy.real_runs_confirmed_by = ""
            changed["real_runs_confirmed"] = [True, False]
        _save_versioned(policy, reason or "updated")
        policy_schedule_sync(policy)
        audit_record(
            actor=actor,
            action="retention.policy_updated",
            obj=policy,
            data={
                "changes": changed,
                "version": policy_version(policy),
                "approved_by": actor.ref,
                "reason": reason,
            },
        )
    return policy


def retention_builtin_ensure() -> RetentionPolicy:
    """The built-in policy over Privacy Desk's own requests: created on first
    use, its age kept equal to settings.SELF_RETENTION_DAYS."""
    system = actor_system("retention")
    days = whole_number_clean(
        settings.SELF_RETENTION_DAYS, "SELF_RETENTION_DAYS", 1, MAX_AGE_DAYS
    )
    policy = RetentionPolicy.objects.filter(builtin=True).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = RetentionPolicy(
                    name=BUILTIN_NAME,
                    description=(
                        "Closed requests keep their evidence and reference but lose "
                        "the subject's plaintext identifiers (CCPA requests after at "
                        "least 24 months)."
                    ),
                    table="dsr_request",
                    category="privacy_desk",
                    age_column="closed_at",
                    max_age_days=days,
                    action=PolicyAction.ANONYMIZE,
                    fields=BUILTIN_FIELDS,
                    schedule=BUILTIN_SCHEDULE,
                    batch_size=500,
                    builtin=True,
                    # Its scope is fixed by the code: it runs on its schedule
                    # from the start (issue 16 applies to staff policies).
                    real_runs_confirmed_at=timezone.now(),
                    real_runs_confirmed_by="system:retention",
                )
                _save_versioned(policy, "built-in policy created")
                policy_schedule_sync(policy)
                audit_record(
                    actor=system,
                    action="retention.policy_created",
                    obj=policy,
                    data={
                        "policy": policy_summary(policy),
                        "version": policy_version(policy),
                    },
                )
        except IntegrityError:  # created meanwhile by another process
            return RetentionPolicy.objects.get(builtin=True)
        return policy
    if policy.max_age_days != days:
        with transaction.atomic():
            old = policy.max_age_days
            policy.max_age_days = days
            _save_versioned(policy, "SELF_RETENTION_DAYS changed")
            audit_record(
                actor=system,
                action="retention.policy_updated",
                obj=policy,
                data={
                    "changes": {"max_age_days": [old, days]},
                    "version": policy_version(policy),
                    "approved_by": "settings:SELF_RETENTION_DAYS",
                },
            )
    return policy
