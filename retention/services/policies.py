"""Writes of retention policies and their beat schedules.

Every change is versioned twice: a django-simple-history row (the version a
purge run cites) and an audit event naming who approved it and what changed.
The schedule lives on the policy as crontab text and is mirrored into a
django-celery-beat PeriodicTask, which beat reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import ConnectorError, ConnectorKind, Location
from connectors.models import Connector
from connectors.registry import kind_class
from dsr.clock import controller_zone
from privacydesk.errors import ValidationFailed
from retention.choices import PolicyAction
from retention.models import RetentionPolicy

TASK = "retention.tasks.purge_run_task"
DEFAULT_SCHEDULE = "0 3 * * *"
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
MIN_BATCH, MAX_BATCH = 10, 20_000  # SQLite takes at most 32,766 parameters
MAX_AGE_DAYS = 36_500
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_CRON_PART = re.compile(r"^[0-9a-z*/,\-]{1,64}$", re.IGNORECASE)
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
# The built-in policy's scope is fixed by the code and its age by settings.
BUILTIN_EDITABLE = ("description", "enabled", "schedule", "batch_size")

# --- validation ------------------------------------------------------------------


def schedule_parts(schedule: str) -> dict[str, str]:
    """Crontab text as django-celery-beat's fields, or ValidationFailed."""
    from celery.schedules import crontab

    if not isinstance(schedule, str):
        raise ValidationFailed("must be crontab text", field="schedule")
    parts = schedule.split()
    if len(parts) != 5 or not all(_CRON_PART.match(part) for part in parts):
        raise ValidationFailed(
            "give five crontab fields: minute hour day-of-month month day-of-week, "
            'e.g. "0 3 * * *" for 03:00 every day',
            field="schedule",
        )
    fields = dict(zip(CRON_FIELDS, parts, strict=True))
    try:
        crontab(**fields)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"not a valid crontab: {exc}", field="schedule") from exc
    return fields


def _name(value: Any, *, exclude_pk: int | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("a name is required", field="name")
    name = " ".join(value.split())
    if len(name) > 120:
        raise ValidationFailed("at most 120 characters", field="name")
    taken = RetentionPolicy.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationFailed(f"a policy named {name!r} exists", field="name")
    return name


def _int(value: Any, field: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise ValidationFailed(f"must be a whole number {low}-{high}", field=field)
    return value


def _kind(connector: Connector) -> type[ConnectorKind]:
    """The connector's kind, if it can purge by age (connectors.base)."""
    try:
        kind = kind_class(connector.kind)
    except Exception as exc:  # a kind not installed
        raise ValidationFailed(
            f"the kind {connector.kind!r} is not available", field="connector"
        ) from exc
    if not kind.purges:
        raise ValidationFailed(
            f"{kind.label} connectors cannot purge by age; choose a connector "
            "whose kind can",
            field="connector",
        )
    return kind


def _connector(value: Any) -> Connector:
    if not isinstance(value, Connector):
        raise ValidationFailed("choose a connector", field="connector")
    _kind(value)
    return value


def _location(connector: Connector, table: str) -> Location:
    """What the store says of `table` (its key and category)."""
    try:
        locations = connector.instance().locations()
    except ConnectorError as exc:
        raise ValidationFailed(
            f"the connector's config is invalid: {exc.message}", field="connector"
        ) from exc
    if locations is None:
        return Location(name=table)  # the kind names no tables: taken as given
    for location in locations:
        if location.name == table:
            return location
    names = ", ".join(location.name for location in locations)
    raise ValidationFailed(
        f"{connector.name} maps no table {table}; one of {names}", field="table"
    )


def _fields(
    value: Any,
    action: str,
    *,
    kind: type[ConnectorKind],
    key: str,
    age_column: str,
) -> list[str]:
    if value in (None, ""):
        value = []
    if not isinstance(value, list | tuple):
        raise ValidationFailed("must be a list of column names", field="fields")
    fields: list[str] = []
    for index, item in enumerate(value):
        name = kind.name_clean(item, field=f"fields[{index}]")
        if name in (key, age_column):
            raise ValidationFailed(
                "the key and the age column cannot be changed",
                field=f"fields[{index}]",
            )
        if name not in fields:
            fields.append(name)
    if action == PolicyAction.DELETE and fields:
        raise ValidationFailed(
            "delete removes whole rows: give no fields", field="fields"
        )
    if action != PolicyAction.DELETE and not fields:
        raise ValidationFailed(
            f'{action} needs the columns to change, e.g. ["transcript"]',
            field="fields",
        )
    return fields


def _clean(values: dict[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
    """Check a whole policy; errors name the field."""
    clean: dict[str, Any] = {
        "name": _name(values.get("name"), exclude_pk=exclude_pk),
        "description": str(values.get("description") or "").strip(),
        "connector": _connector(values.get("connector")),
    }
    action = values.get("action")
    if action not in PolicyAction.values:
        raise ValidationFailed(
            f"one of {', '.join(PolicyAction.values)}", field="action"
        )
    clean["action"] = action
    # Names are checked as the connector's kind spells them (connectors.base).
    kind = _kind(clean["connector"])
    clean["table"] = kind.name_clean(values.get("table"), field="table")
    table = _location(clean["connector"], clean["table"])
    clean["age_column"] = kind.name_clean(values.get("age_column"), field="age_column")
    clean["fields"] = _fields(
        values.get("fields"),
        action,
        kind=kind,
        key=table.key,
        age_column=clean["age_column"],
    )
    category = str(values.get("category") or "").strip() or table.category
    if len(category) > 50:
        raise ValidationFailed("at most 50 characters", field="category")
    clean["category"] = category
    clean["max_age_days"] = _int(
        values.get("max_age_days"), "max_age_days", 1, MAX_AGE_DAYS
    )
    clean["apply_to_children"] = bool(values.get("apply_to_children", True))
    clean["enabled"] = bool(values.get("enabled", True))
    schedule = values.get("schedule") or DEFAULT_SCHEDULE
    schedule_parts(schedule)
    clean["schedule"] = " ".join(schedule.split())
    clean["batch_size"] = _int(
        values.get("batch_size", 5000), "batch_size", MIN_BATCH, MAX_BATCH
    )
    return clean


# --- the beat schedule -------------------------------------------------------------


def _schedule_sync(policy: RetentionPolicy) -> None:
    """Create or update the policy's PeriodicTask (beat reads it)."""
    crontab, _ = CrontabSchedule.objects.get_or_create(
        **schedule_parts(policy.schedule), timezone=controller_zone()
    )
    task = policy.periodic_task or PeriodicTask(name=f"retention:{policy.public_id}")
    task.task = TASK
    task.crontab = crontab
    task.interval = None
    task.args = json.dumps([policy.pk])
    task.kwargs = "{}"
    task.enabled = policy.enabled
    task.description = f"Retention policy: {policy.name}"[:200]
    task.save()
    if policy.periodic_task_id != task.pk:
        RetentionPolicy.objects.filter(pk=policy.pk).update(periodic_task=task)
        policy.periodic_task = task


def _summary(policy: RetentionPolicy) -> dict[str, Any]:
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
    clean = _clean(
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
        _schedule_sync(policy)
        audit_record(
            actor=actor,
            action="retention.policy_created",
            obj=policy,
            data={
                "policy": _summary(policy),
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
        before = _summary(policy)
        if policy.builtin:
            values = {key: getattr(policy, key) for key in BUILTIN_EDITABLE}
            values.update(changes)
            if "schedule" in changes:
                schedule_parts(values["schedule"])
                values["schedule"] = " ".join(values["schedule"].split())
            values["batch_size"] = _int(
                values["batch_size"], "batch_size", MIN_BATCH, MAX_BATCH
            )
            values["enabled"] = bool(values["enabled"])
            values["description"] = str(values["description"] or "").strip()
        else:
            values = {key: getattr(policy, key) for key in EDITABLE}
            values.update(changes)
            values = _clean(values, exclude_pk=policy.pk)
        for key, value in values.items():
            setattr(policy, key, value)
        after = _summary(policy)
        changed = {
            key: [before[key], after[key]] for key in after if before[key] != after[key]
        }
        if not changed:
            return policy
        _save_versioned(policy, reason or "updated")
        _schedule_sync(policy)
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
    days = _int(settings.SELF_RETENTION_DAYS, "SELF_RETENTION_DAYS", 1, MAX_AGE_DAYS)
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
                )
                _save_versioned(policy, "built-in policy created")
                _schedule_sync(policy)
                audit_record(
                    actor=system,
                    action="retention.policy_created",
                    obj=policy,
                    data={
                        "policy": _summary(policy),
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
