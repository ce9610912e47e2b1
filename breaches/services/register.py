"""Recording breaches and the decisions about them (GDPR Art. 33, 34).

Every breach is documented, whether or not it is notified (Art. 33(5)): a
decision not to notify the authority carries its reasons, and so does a
decision not to tell the subjects of a high-risk breach (the exceptions of
Art. 34(3)). A notification after 72 hours carries the reasons for the
delay (Art. 33(1)). Each change is a history row and an audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from breaches.choices import (
    SUBJECT_EXCEPTIONS,
    AuthorityDecision,
    BreachStatus,
    NoticeStatus,
    RiskLevel,
    SubjectsDecision,
)
from breaches.clock import notification_late
from breaches.models import Breach
from dsr.clock import local_date
from privacydesk.errors import IllegalTransition, ValidationFailed

# A time "now" may be ahead of the server's clock by this much (a laptop).
CLOCK_SKEW = timedelta(minutes=5)
TEXT_FIELDS = (
    "description",
    "data_categories",
    "subject_categories",
    "consequences",
    "measures",
    "risk_reasons",
    "authority_decision_reasons",
    "subjects_decision_reasons",
    "late_reason",
)
# What breach_update may change; the notification has its own service.
EDITABLE = (
    "title",
    "aware_at",
    "occurred_at",
    "description",
    "data_categories",
    "subject_categories",
    "approx_subjects",
    "approx_records",
    "contact_point",
    "consequences",
    "measures",
    "risk",
    "risk_reasons",
    "authority_decision",
    "authority_decision_reasons",
    "subjects_decision",
    "subjects_decision_reasons",
    "late_reason",
)
# The information Art. 33(3)(a)-(d) asks of a notification.
ARTICLE_33_3 = {
    "description": "33(3)(a) nature of the breach",
    "data_categories": "33(3)(a) categories of personal data",
    "subject_categories": "33(3)(a) categories of data subjects",
    "approx_subjects": "33(3)(a) approximate number of data subjects",
    "approx_records": "33(3)(a) approximate number of records",
    "contact_point": "33(3)(b) DPO or contact point",
    "consequences": "33(3)(c) likely consequences",
    "measures": "33(3)(d) measures taken or proposed",
}
MIN_REASON = 10


def _text(value: Any, field: str, *, maximum: int = 20000) -> str:
    text = str(value or "").strip()
    if len(text) > maximum:
        raise ValidationFailed(f"at most {maximum} characters", field=field)
    return text


def _required(value: Any, field: str, *, minimum: int, maximum: int) -> str:
    text = _text(value, field, maximum=maximum)
    if len(text) < minimum:
        raise ValidationFailed(
            "required" if not text else f"at least {minimum} characters", field=field
        )
    return text


def _moment(value: Any, field: str, *, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            raise ValidationFailed("required", field=field)
        return None
    if not isinstance(value, datetime):
        raise ValidationFailed("must be a date and time", field=field)
    if timezone.is_naive(value):
        raise ValidationFailed(
            "must include a time zone, e.g. Z or +01:00", field=field
        )
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed("cannot be in the future", field=field)
    return value


def _count(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed("a whole number, 0 or more", field=field)
    return value


def _choice(value: Any, field: str, choices: Any) -> str:
    if value not in choices.values:
        raise ValidationFailed(f"one of {', '.join(choices.values)}", field=field)
    return str(value)


def _clean(field: str, value: Any) -> Any:
    """One input, checked on its own; the rules across fields come after."""
    if field == "title":
        return " ".join(_required(value, field, minimum=3, maximum=200).split())
    if field == "aware_at":
        return _moment(value, field, required=True)
    if field == "occurred_at":
        return _moment(value, field, required=False)
    if field == "description":
        return _required(value, field, minimum=MIN_REASON, maximum=20000)
    if field in ("approx_subjects", "approx_records"):
        return _count(value, field)
    if field == "contact_point":
        return _text(value, field, maximum=300)
    if field == "risk":
        return _choice(value, field, RiskLevel)
    if field == "authority_decision":
        return _choice(value, field, AuthorityDecision)
    if field == "subjects_decision":
        return _choice(value, field, SubjectsDecision)
    return _text(value, field)


def _check_rules(breach: Breach) -> None:
    """The rules that span fields, checked on the breach as it would be saved."""
    if breach.occurred_at is not None and breach.occurred_at > breach.aware_at:
        raise ValidationFailed(
            "cannot be after the time you became aware of it", field="occurred_at"
        )
    if breach.authority_notified_at is not None:
        if breach.aware_at > breach.authority_notified_at:
            raise ValidationFailed(
                "cannot be after the authority was notified", field="aware_at"
            )
        if (
            notification_late(
                aware_at=breach.aware_at, notified_at=breach.authority_notified_at
            )
            and len(breach.late_reason) < MIN_REASON
        ):
            raise ValidationFailed(
                "the authority was notified more than 72 hours after awareness: "
                "give the reasons for the delay (Art. 33(1))",
                field="late_reason",
            )
        if breach.authority_decision != AuthorityDecision.NOTIFY:
            raise ValidationFailed(
                "the authority has been notified", field="authority_decision"
            )
    if breach.authority_decision == AuthorityDecision.NOT_NOTIFY:
        if breach.risk == RiskLevel.UNASSESSED:
            raise ValidationFailed(
                "assess the risk before deciding not to notify", field="risk"
            )
        if breach.risk != RiskLevel.NONE:
            raise ValidationFailed(
                "a breach likely to result in a risk is notified to the "
                "authority (Art. 33(1))",
                field="authority_decision",
            )
        if len(breach.authority_decision_reasons) < MIN_REASON:
            raise ValidationFailed(
                "give the reasons for not notifying the authority (Art. 33(5))",
                field="authority_decision_reasons",
            )
    if breach.subjects_decision in SUBJECT_EXCEPTIONS:
        if (
            breach.subjects_decision == SubjectsDecision.NOT_REQUIRED
            and breach.risk == RiskLevel.HIGH_RISK
        ):
            raise ValidationFailed(
                "a high risk is told to the subjects unless an exception of "
                "Art. 34(3) applies: choose it",
                field="subjects_decision",
            )
        if len(breach.subjects_decision_reasons) < MIN_REASON:
            raise ValidationFailed(
                "give the reasons for not telling each subject",
                field="subjects_decision_reasons",
            )


def _require_open(breach: Breach) -> None:
    if breach.status != BreachStatus.OPEN:
        raise IllegalTransition("this breach is closed")


def breach_create(*, actor: Actor, **values: Any) -> Breach:
    """Record a breach; the 72-hour clock runs from `aware_at`."""
    actor.require(Perm.BREACH_MANAGE)
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationFailed("unknown field", field=unknown[0])
    breach = Breach(created_by=actor.ref)
    for field in ("title", "aware_at", "description"):
        values.setdefault(field, None)
    for field, value in values.items():
        setattr(breach, field, _clean(field, value))
    _check_rules(breach)
    with transaction.atomic(), audit_batch():
        # The reference numbers the row (as a request's does), so it is set
        # once the row has its id: on the row and on its one history row.
        breach.reference = f"BR-NEW-{breach.public_id.hex[:12]}"
        breach.save()
        year = local_date(breach.aware_at).year
        breach.reference = f"BR-{year}-{breach.pk:06d}"
        Breach.objects.filter(pk=breach.pk).update(reference=breach.reference)
        breach.history.all().update(reference=breach.reference)
        audit_record(
            actor=actor,
            action="breach.recorded",
            obj=breach,
            data={
                "reference": breach.reference,
                "aware_at": breach.aware_at,
                "occurred_at": breach.occurred_at,
                "notify_by": breach.notify_by,
                "risk": breach.risk,
                "missing_33_3": missing_33_3(breach),
            },
        )
    return breach


def missing_33_3(breach: Breach) -> list[str]:
    """The Art. 33(3) fields still empty (they may follow in phases, 33(4))."""
    return [field for field in ARTICLE_33_3 if getattr(breach, field) in (None, "")]


def breach_update(*, actor: Actor, breach: Breach, **changes: Any) -> Breach:
    """Change what is known or decided; only the keys given change.

    After the authority has been notified, a change to the facts is
    information given in phases (Art. 33(4)), and the audit event says so."""
    actor.require(Perm.BREACH_MANAGE)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed("unknown field", field=unknown[0])
    cleaned = {field: _clean(field, value) for field, value in changes.items()}
    with transaction.atomic(), audit_batch():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        _require_open(locked)
        changed = [f for f, v in cleaned.items() if getattr(locked, f) != v]
        for field in changed:
            setattr(locked, field, cleaned[field])
        _check_rules(locked)
        if changed:
            locked.save()
            audit_record(
                actor=actor,
                action="breach.updated",
                obj=locked,
                data=_change_data(locked, changed),
            )
    return locked


def _change_data(breach: Breach, changed: list[str]) -> dict[str, Any]:
    """What an audit event keeps of a change: the field names, and the values
    of the clock and the decisions (free text stays in the history rows)."""
    data: dict[str, Any] = {"changed": changed}
    for field in (
        "aware_at",
        "occurred_at",
        "approx_subjects",
        "approx_records",
        "risk",
        "authority_decision",
        "subjects_decision",
    ):
        if field in changed:
            data[field] = getattr(breach, field)
    if breach.authority_notified_at is not None and set(changed) & set(ARTICLE_33_3):
        data["phase_after_notification"] = True  # Art. 33(4)
    return data


def breach_notify_authority(
    *,
    actor: Actor,
    breach: Breach,
    notified_at: Any,
    reference: Any,
    late_reason: Any = "",
) -> Breach:
    """Record that the supervisory authority was notified, when, and its
    reference; after 72 hours the reasons for the delay are required."""
    actor.require(Perm.BREACH_MANAGE)
    moment = _moment(notified_at, "notified_at", required=True)
    assert moment is not None
    reference_text = " ".join(
        _required(reference, "reference", minimum=2, maximum=200).split()
    )
    reason = _text(late_reason, "late_reason")
    with transaction.atomic(), audit_batch():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        _require_open(locked)
        if locked.authority_notified_at is not None:
            raise IllegalTransition("the authority notification is already recorded")
        if moment < locked.aware_at:
            raise ValidationFailed(
                "cannot be before the time you became aware of the breach",
                field="notified_at",
            )
        late = notification_late(aware_at=locked.aware_at, notified_at=moment)
        if late and len(reason) < MIN_REASON:
            raise ValidationFailed(
                "more than 72 hours after awareness: give the reasons for the "
                "delay (Art. 33(1))",
                field="late_reason",
            )
        locked.authority_notified_at = moment
        locked.authority_reference = reference_text
        locked.late_reason = reason if late else locked.late_reason
        locked.authority_decision = AuthorityDecision.NOTIFY
        locked.save()
        audit_record(
            actor=actor,
            action="breach.authority_notified",
            obj=locked,
            data={
                "notified_at": moment,
                "reference": reference_text,
                "late": late,
                "hours_after_awareness": round(
                    (moment - locked.aware_at).total_seconds() / 3600, 2
                ),
                "missing_33_3": missing_33_3(locked),
            },
        )
    return locked


def breach_close_check(breach: Breach) -> None:
    """Why the breach cannot be closed yet, as a field error; None if it can."""
    if breach.risk == RiskLevel.UNASSESSED:
        raise ValidationFailed("assess the risk before closing", field="risk")
    if breach.authority_notified_at is None:
        if breach.authority_decision != AuthorityDecision.NOT_NOTIFY:
            raise ValidationFailed(
                "record the notification to the authority, or the decision not "
                "to notify with its reasons (Art. 33(5))",
                field="authority_decision",
            )
    if breach.risk == RiskLevel.HIGH_RISK and (
        breach.subjects_decision == SubjectsDecision.PENDING
    ):
        raise ValidationFailed(
            "a high-risk breach needs the decision about telling the subjects "
            "(Art. 34)",
            field="subjects_decision",
        )
    if breach.notices.filter(status=NoticeStatus.QUEUED).exists():
        raise ValidationFailed(
            "some subject notices are still being sent", field="notices"
        )


def breach_close(*, actor: Actor, breach: Breach, note: Any = "") -> Breach:
    """Close the incident once its decisions are documented."""
    actor.require(Perm.BREACH_MANAGE)
    text = _text(note, "note", maximum=2000)
    with transaction.atomic(), audit_batch():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        _require_open(locked)
        breach_close_check(locked)
        locked.status = BreachStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.save()
        audit_record(
            actor=actor,
            action="breach.closed",
            obj=locked,
            data={"note": text, "authority_decision": locked.authority_decision},
        )
    return locked
