"""The input rules of a retention policy: each field checked and cleaned,
every error naming its field. Table and column names are checked as the
connector's kind spells them (connectors.base)."""

from __future__ import annotations

import re
from typing import Any

from celery.schedules import crontab

from connectors.base import ConnectorError, ConnectorKind, Location
from connectors.models import Connector
from connectors.registry import kind_class
from privacydesk.errors import ValidationFailed
from retention.choices import PolicyAction
from retention.models import RetentionPolicy

DEFAULT_SCHEDULE = "0 3 * * *"
MIN_BATCH, MAX_BATCH = 10, 20_000  # SQLite takes at most 32,766 parameters
MAX_AGE_DAYS = 36_500
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_CRON_PART = re.compile(r"^[0-9a-z*/,\-]{1,64}$", re.IGNORECASE)


def schedule_parts(schedule: str) -> dict[str, str]:
    """Crontab text as django-celery-beat's fields, or ValidationFailed."""
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


def whole_number_clean(value: Any, field: str, low: int, high: int) -> int:
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


def policy_clean(values: dict[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
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
    clean["max_age_days"] = whole_number_clean(
        values.get("max_age_days"), "max_age_days", 1, MAX_AGE_DAYS
    )
    clean["apply_to_children"] = bool(values.get("apply_to_children", True))
    clean["enabled"] = bool(values.get("enabled", True))
    schedule = values.get("schedule") or DEFAULT_SCHEDULE
    schedule_parts(schedule)
    clean["schedule"] = " ".join(schedule.split())
    clean["batch_size"] = whole_number_clean(
        values.get("batch_size", 5000), "batch_size", MIN_BATCH, MAX_BATCH
    )
    return clean
