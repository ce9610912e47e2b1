"""Writes of the officer's part of the records of processing.

Every change, in one transaction: the row (django-simple-history keeps its
versions), the record's version number raised by one under the record's row
lock, and an audit event naming who changed what and the new version. Values
are checked here and errors name the field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Model

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from consent.models import Purpose
from privacydesk.errors import ValidationFailed
from records.choices import RecipientRole
from records.models import Activity, ProcessingRecord, Recipient

SHORT, MEDIUM, LONG = 200, 300, 10_000
MAX_LABELS, MAX_LABEL = 50, 100
RECORD_TEXTS = {
    "controller_name": SHORT,
    "controller_address": LONG,
    "controller_contact": MEDIUM,
    "representative": LONG,
    "joint_controllers": LONG,
    "dpo_name": SHORT,
    "dpo_contact": MEDIUM,
    "dpo_not_designated_reason": MEDIUM,
    "security_measures": LONG,
}
ACTIVITY_TEXTS = {
    "name": SHORT,
    "description": LONG,
    "legal_basis": SHORT,
    "retention": LONG,
}
RECIPIENT_TEXTS = {
    "name": SHORT,
    "description": LONG,
    "country": 100,
    "safeguards": LONG,
}


def text_clean(value: Any, *, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed("must be a text", field=field)
    text = value.strip()
    if len(text) > limit:
        raise ValidationFailed(f"at most {limit:,} characters", field=field)
    return text


def labels_clean(value: Any, *, field: str) -> list[str]:
    """A list of short labels ("customers", "contact"), blanks and repeats
    dropped, order kept."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationFailed("must be a list of texts", field=field)
    found: list[str] = []
    for index, item in enumerate(value):
        text = text_clean(item, field=f"{field}[{index}]", limit=MAX_LABEL)
        if text and text not in found:
            found.append(text)
    if len(found) > MAX_LABELS:
        raise ValidationFailed(f"at most {MAX_LABELS} entries", field=field)
    return found


def _record_locked() -> ProcessingRecord:
    ProcessingRecord.objects.get_or_create(pk=1)
    return ProcessingRecord.objects.select_for_update().get(pk=1)


def _changed(obj: Model, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _new_version(
    *,
    actor: Actor,
    record: ProcessingRecord,
    action: str,
    obj: Model,
    data: dict[str, Any],
) -> int:
    """Raise the record's version (row locked by the caller) and audit."""
    record.version += 1
    record.changed_by = actor.ref
    record.save()
    audit_record(
        actor=actor, action=action, obj=obj, data={**data, "version": record.version}
    )
    return record.version


# --- the controller's part ---------------------------------------------------------


def processing_record_update(*, actor: Actor, **changes: Any) -> ProcessingRecord:
    """Change the controller's identity, the DPO, the security measures or the
    usual categories of data subjects. Audited with the fields changed (their
    names: staff contact details stay out of the chain's data)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    unknown = sorted(set(changes) - set(RECORD_TEXTS) - {"subject_categories"})
    if unknown:
        raise ValidationFailed("is not a field of the record", field=unknown[0])
    values: dict[str, Any] = {
        name: text_clean(value, field=name, limit=RECORD_TEXTS[name])
        for name, value in changes.items()
        if name in RECORD_TEXTS
    }
    if "subject_categories" in changes:
        values["subject_categories"] = labels_clean(
            changes["subject_categories"], field="subject_categories"
        )
    with transaction.atomic():
        record = _record_locked()
        changed = _changed(record, values)
        if not changed:
            return record
        _new_version(
            actor=actor,
            record=record,
            action="records.controller_updated",
            obj=record,
            data={"fields": sorted(changed)},
        )
    return record


# --- activities ---------------------------------------------------------------------


def _activity_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(
        set(values)
        - set(ACTIVITY_TEXTS)
        - {"purpose", "data_categories", "subject_categories"}
    )
    if unknown:
        raise ValidationFailed("is not a field of an activity", field=unknown[0])
    clean: dict[str, Any] = {
        name: text_clean(value, field=name, limit=ACTIVITY_TEXTS[name])
        for name, value in values.items()
        if name in ACTIVITY_TEXTS
    }
    for name in ("data_categories", "subject_categories"):
        if name in values:
            clean[name] = labels_clean(values[name], field=name)
    if "purpose" in values:
        purpose = values["purpose"]
        if purpose is not None and not isinstance(purpose, Purpose):
            raise ValidationFailed("must be a consent purpose", field="purpose")
        clean["purpose"] = purpose
    return clean


def _activity_check(activity: Activity) -> None:
    if activity.purpose is None and not activity.name:
        raise ValidationFailed(
            "name the activity, or choose the consent purpose it describes",
            field="name",
        )
    taken = Activity.objects.exclude(pk=activity.pk)
    if activity.purpose is not None and taken.filter(purpose=activity.purpose).exists():
        raise ValidationFailed(
            "this purpose is already described by another activity", field="purpose"
        )
    if (
        activity.purpose is None
        and taken.filter(purpose=None, name__iexact=activity.name).exists()
    ):
        raise ValidationFailed("another activity has this name", field="name")


def activity_create(*, actor: Actor, **values: Any) -> Activity:
    """Describe a processing activity: more about a consent purpose, or one
    that no connector shows (give it a name)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    activity = Activity(**_activity_values(values))
    _activity_check(activity)
    with transaction.atomic():
        record = _record_locked()
        activity.save()
        _new_version(
            actor=actor,
            record=record,
            action="records.activity_created",
            obj=activity,
            data={"name": str(activity), "fields": sorted(values)},
        )
    return activity


def activity_update(*, actor: Actor, activity: Activity, **values: Any) -> Activity:
    actor.require(Perm.GOVERNANCE_MANAGE)
    clean = _activity_values(values)
    with transaction.atomic():
        record = _record_locked()
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        changed = _changed(activity, clean)
        if not changed:
            return activity
        _activity_check(activity)
        activity.save()
        _new_version(
            actor=actor,
            record=record,
            action="records.activity_updated",
            obj=activity,
            data={"name": str(activity), "fields": sorted(changed)},
        )
    return activity


def activity_delete(*, actor: Actor, activity: Activity) -> None:
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        record = _record_locked()
        if Recipient.objects.filter(activity=activity).exists():
            raise ValidationFailed(
                "remove its recipients, or move them to another activity, first",
                field="activity",
            )
        name = str(activity)
        _new_version(
            actor=actor,
            record=record,
            action="records.activity_deleted",
            obj=activity,
            data={"name": name},
        )
        activity.delete()


# --- recipients ---------------------------------------------------------------------


def _recipient_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(RECIPIENT_TEXTS) - {"role", "activity"})
    if unknown:
        raise ValidationFailed("is not a field of a recipient", field=unknown[0])
    clean: dict[str, Any] = {
        name: text_clean(value, field=name, limit=RECIPIENT_TEXTS[name])
        for name, value in values.items()
        if name in RECIPIENT_TEXTS
    }
    if "name" in clean and not clean["name"]:
        raise ValidationFailed("name the recipient", field="name")
    if "role" in values:
        if values["role"] not in RecipientRole.values:
            raise ValidationFailed(
                f"one of {', '.join(RecipientRole.values)}", field="role"
            )
        clean["role"] = values["role"]
    if "activity" in values:
        activity = values["activity"]
        if activity is not None and not isinstance(activity, Activity):
            raise ValidationFailed("must be an activity", field="activity")
        clean["activity"] = activity
    return clean


def _required(values: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if not values.get(name):
            raise ValidationFailed("is required", field=name)


def recipient_create(*, actor: Actor, **values: Any) -> Recipient:
    """Record a recipient or processor no connector shows; with a country
    outside the EEA, its safeguard (or the record shows the gap)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    clean = _recipient_values(values)
    _required(clean, ("name", "role"))
    with transaction.atomic():
        record = _record_locked()
        recipient = Recipient.objects.create(**clean)
        _new_version(
            actor=actor,
            record=record,
            action="records.recipient_created",
            obj=recipient,
            data={"name": recipient.name, "fields": sorted(clean)},
        )
    return recipient


def recipient_update(*, actor: Actor, recipient: Recipient, **values: Any) -> Recipient:
    actor.require(Perm.GOVERNANCE_MANAGE)
    clean = _recipient_values(values)
    with transaction.atomic():
        record = _record_locked()
        recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
        changed = _changed(recipient, clean)
        if not changed:
            return recipient
        recipient.save()
        _new_version(
            actor=actor,
            record=record,
            action="records.recipient_updated",
            obj=recipient,
            data={"name": recipient.name, "fields": sorted(changed)},
        )
    return recipient


def recipient_delete(*, actor: Actor, recipient: Recipient) -> None:
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        record = _record_locked()
        _new_version(
            actor=actor,
            record=record,
            action="records.recipient_deleted",
            obj=recipient,
            data={"name": recipient.name},
        )
        recipient.delete()
