"""Recording a breach and its decisions: the rules of Art. 33 and 34."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from accounts.actors import Actor, actor_for_user
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from breaches.choices import BreachStatus
from breaches.models import Breach
from breaches.services.register import (
    breach_close,
    breach_create,
    breach_notify_authority,
    breach_update,
)
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed
from tests.breaches.conftest import FRIDAY_5PM

pytestmark = pytest.mark.django_db
REASONS = "Only hashed order numbers were exposed; nobody can be identified."


def _actions(breach: Breach) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(breach.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_a_breach_gets_a_reference_a_history_row_and_an_audit_event(
    make_breach: Callable[..., Breach],
) -> None:
    breach = make_breach(approx_subjects=120, data_categories="names, e-mails")

    assert breach.reference == f"BR-2026-{breach.pk:06d}"
    assert breach.notify_by == FRIDAY_5PM + timedelta(hours=72)
    assert [h.reference for h in breach.history.all()] == [breach.reference]
    event = AuditEvent.objects.get(object_id=str(breach.public_id))
    assert event.action == "breach.recorded"
    assert event.data["notify_by"] == "2026-03-09T17:00:00Z"
    # the 33(3) fields not given yet are listed (they may follow, 33(4))
    assert "consequences" in event.data["missing_33_3"]
    assert "approx_subjects" not in event.data["missing_33_3"]
    assert audit_chain_verify().ok


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"description": "short"}, "description"),
        ({"aware_at": None}, "aware_at"),
        ({"aware_at": FRIDAY_5PM.replace(tzinfo=None)}, "aware_at"),  # naive
        ({"aware_at": datetime(2027, 1, 1, tzinfo=UTC)}, "aware_at"),  # future
        ({"occurred_at": FRIDAY_5PM + timedelta(hours=2)}, "occurred_at"),
        ({"approx_subjects": -1}, "approx_subjects"),
        ({"risk": "catastrophic"}, "risk"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(
    make_breach: Callable[..., Breach], fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_breach(**fields)
    assert error.value.field == field
    assert not Breach.objects.exists()
    assert not AuditEvent.objects.filter(action="breach.recorded").exists()


def test_an_auditor_may_not_record_a_breach(auditor: User) -> None:
    with pytest.raises(NotPermitted):
        breach_create(
            actor=actor_for_user(auditor),
            title="Lost laptop",
            aware_at=FRIDAY_5PM,
            description="A support laptop was stolen from a car.",
        )
    assert not Breach.objects.exists()


def test_notification_within_72_hours_needs_no_reason(
    make_breach: Callable[..., Breach], officer_actor: Actor, at: Any
) -> None:
    breach = make_breach()
    at(FRIDAY_5PM + timedelta(hours=72))
    breach = breach_notify_authority(
        actor=officer_actor,
        breach=breach,
        notified_at=FRIDAY_5PM + timedelta(hours=71, minutes=59),
        reference="ICO-123456",
    )
    assert breach.authority_decision == "notify"
    assert breach.authority_reference == "ICO-123456"
    event = AuditEvent.objects.get(action="breach.authority_notified")
    assert event.data["late"] is False
    assert event.data["hours_after_awareness"] == pytest.approx(71.98, abs=0.01)


def test_late_notification_is_refused_without_the_reasons_for_the_delay(
    make_breach: Callable[..., Breach], officer_actor: Actor, at: Any
) -> None:
    # given a breach known on Friday 17:00, notified on Monday 17:01
    breach = make_breach()
    at(FRIDAY_5PM + timedelta(hours=80))
    late = FRIDAY_5PM + timedelta(hours=72, minutes=1)
    # when the notification is recorded without reasons
    with pytest.raises(ValidationFailed) as error:
        breach_notify_authority(
            actor=officer_actor, breach=breach, notified_at=late, reference="ICO-9"
        )
    # then it is refused on late_reason, and nothing is recorded
    assert error.value.field == "late_reason"
    breach.refresh_from_db()
    assert breach.authority_notified_at is None
    assert "breach.authority_notified" not in _actions(breach)
    # and with the reasons it is accepted and flagged late
    breach = breach_notify_authority(
        actor=officer_actor,
        breach=breach,
        notified_at=late,
        reference="ICO-9",
        late_reason="The scope was only confirmed by the vendor on Monday.",
    )
    assert breach.late_reason.startswith("The scope")
    assert AuditEvent.objects.get(action="breach.authority_notified").data["late"]


def test_the_notification_is_recorded_once_and_not_before_awareness(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach()
    with pytest.raises(ValidationFailed) as error:
        breach_notify_authority(
            actor=officer_actor,
            breach=breach,
            notified_at=FRIDAY_5PM - timedelta(minutes=1),
            reference="ICO-1",
        )
    assert error.value.field == "notified_at"
    breach_notify_authority(
        actor=officer_actor, breach=breach, notified_at=FRIDAY_5PM, reference="ICO-1"
    )
    with pytest.raises(IllegalTransition):
        breach_notify_authority(
            actor=officer_actor, breach=breach, notified_at=FRIDAY_5PM, reference="X-2"
        )


def test_moving_awareness_earlier_after_notifying_asks_for_the_delay_reasons(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach()
    breach = breach_notify_authority(
        actor=officer_actor,
        breach=breach,
        notified_at=FRIDAY_5PM + timedelta(minutes=30),
        reference="ICO-1",
    )
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor, breach=breach, aware_at=FRIDAY_5PM - timedelta(days=4)
        )
    assert error.value.field == "late_reason"
    breach.refresh_from_db()
    assert breach.aware_at == FRIDAY_5PM


def test_not_notifying_needs_a_no_risk_assessment_and_the_reasons(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach()
    # unassessed: assess first
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor,
            breach=breach,
            authority_decision="not_notify",
            authority_decision_reasons=REASONS,
        )
    assert error.value.field == "risk"
    # a risk: must be notified (Art. 33(1))
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor,
            breach=breach,
            risk="risk",
            authority_decision="not_notify",
            authority_decision_reasons=REASONS,
        )
    assert error.value.field == "authority_decision"
    # no risk, but no reasons: Art. 33(5) documents the decision
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor,
            breach=breach,
            risk="none",
            authority_decision="not_notify",
        )
    assert error.value.field == "authority_decision_reasons"
    breach.refresh_from_db()
    assert (breach.risk, breach.authority_decision) == ("unassessed", "pending")
    # with both, the decision stands and stops the clock
    breach = breach_update(
        actor=officer_actor,
        breach=breach,
        risk="none",
        authority_decision="not_notify",
        authority_decision_reasons=REASONS,
    )
    assert breach.authority_decision == "not_notify"
    event = AuditEvent.objects.filter(action="breach.updated").get()
    assert event.data["authority_decision"] == "not_notify"
    assert set(event.data["changed"]) == {
        "risk",
        "authority_decision",
        "authority_decision_reasons",
    }


def test_a_high_risk_is_told_to_subjects_unless_an_exception_with_reasons(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach(risk="high_risk")
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor,
            breach=breach,
            subjects_decision="not_required",
            subjects_decision_reasons=REASONS,
        )
    assert error.value.field == "subjects_decision"
    with pytest.raises(ValidationFailed) as error:
        breach_update(
            actor=officer_actor, breach=breach, subjects_decision="unintelligible"
        )
    assert error.value.field == "subjects_decision_reasons"
    breach = breach_update(
        actor=officer_actor,
        breach=breach,
        subjects_decision="unintelligible",
        subjects_decision_reasons="The database dump was AES-256 encrypted.",
    )
    assert breach.subjects_decision == "unintelligible"


def test_facts_given_after_the_notification_are_a_phase(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach()
    breach_notify_authority(
        actor=officer_actor, breach=breach, notified_at=FRIDAY_5PM, reference="ICO-1"
    )
    breach_update(
        actor=officer_actor, breach=breach, approx_records=5400, measures="Rotated."
    )
    event = AuditEvent.objects.filter(action="breach.updated").get()
    assert event.data["phase_after_notification"] is True
    assert event.data["approx_records"] == 5400
    assert "Rotated." not in str(event.data)  # free text stays in history rows
    assert breach.history.count() == 3


def test_closing_needs_the_decisions_then_freezes_the_record(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach(risk="high_risk")
    with pytest.raises(ValidationFailed) as error:
        breach_close(actor=officer_actor, breach=breach)
    assert error.value.field == "authority_decision"
    breach_notify_authority(
        actor=officer_actor, breach=breach, notified_at=FRIDAY_5PM, reference="ICO-1"
    )
    with pytest.raises(ValidationFailed) as error:
        breach_close(actor=officer_actor, breach=breach)
    assert error.value.field == "subjects_decision"
    breach_update(
        actor=officer_actor,
        breach=breach,
        subjects_decision="public_communication",
        subjects_decision_reasons="No contact details for most of those affected.",
    )
    breach = breach_close(actor=officer_actor, breach=breach, note="Done.")
    assert breach.status == BreachStatus.CLOSED
    with pytest.raises(IllegalTransition):
        breach_update(actor=officer_actor, breach=breach, title="Something else")
    assert _actions(breach)[-1] == "breach.closed"
