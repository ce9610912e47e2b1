"""Consent events: append-only proof, derived state, and what a withdrawal sets off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from consent.choices import ConsentStatus
from consent.models import ConsentEvent, ConsentState, ErasureAssessment
from consent.selectors import consent_check, consent_state_for_subject
from consent.services.assessments import erasure_assessment_decide
from consent.services.events import (
    actor_for_data_subject,
    consent_record,
    consent_set,
)
from consent.services.policies import purpose_update
from privacydesk import crypto
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create

pytestmark = pytest.mark.django_db
ADA = {"email": "ada@example.com"}


def _check(tester, slug: str = "ai_training", identity: Any = None) -> dict[str, Any]:
    return consent_check(actor=tester, identity=identity or ADA, purpose=slug)


def test_grant_then_withdraw_keeps_both_events_and_refuses_at_once(ada, choose, tester):
    # given a grant, checked once so the answer sits in Redis
    choose(ada, "ai_training", True, evidence={"ui_element": "chat-consent"})
    assert _check(tester)["allowed"] is True
    assert _check(tester)["allowed"] is True  # from the cache

    # when the subject withdraws
    choose(ada, "ai_training", False)

    # then the very next check says no, and both events are kept unchanged
    answer = _check(tester)
    assert answer["allowed"] is False
    assert answer["state"] == "withdrawn"
    events = list(ConsentEvent.objects.filter(subject=ada).order_by("id"))
    assert [e.action for e in events] == ["grant", "withdraw"]
    assert events[0].evidence["ui_element"] == "chat-consent"
    state = ConsentState.objects.get(subject=ada, purpose__slug="ai_training")
    assert state.state == ConsentStatus.WITHDRAWN
    assert state.last_event == events[1]


def test_grant_records_what_proves_it(ada, choose):
    recorded = choose(
        ada,
        "ai_processing",
        True,
        channel="chat_widget",
        evidence={
            "user_agent": "Mozilla/5.0",
            "ip": "203.0.113.7",
            "ai_disclosure_version": "v3",
            "ui_element": "chat-start-button",
        },
    )

    event = recorded.event
    assert recorded.created is True
    assert event.policy_version.version == "2026-10"
    assert event.channel == "chat_widget"
    assert event.recorded_by == "system:tests"
    assert event.evidence["ai_disclosure_version"] == "v3"
    assert event.evidence["ip_hash"] == crypto.keyed_hash(
        "203.0.113.7", purpose="consent-evidence-ip"
    )
    assert "203.0.113.7" not in str(event.evidence)
    audit = AuditEvent.objects.get(action="consent.granted")
    assert audit.object_id == str(event.public_id)
    assert audit.data["subject"] == str(ada.public_id)
    assert "ada@example.com" not in str(audit.data)


def test_unknown_subject_gets_the_default_and_a_first_grant_shows_at_once(
    tester, choose
):
    # given a check for someone we have never heard of (cached as default)
    stranger = {"email": "grace@example.com"}
    first = consent_check(actor=tester, identity=stranger, purpose="marketing_email")
    assert first == {
        "allowed": False,
        "state": "default",
        "purpose": "marketing_email",
        "policy_version": "2026-10",
        "since": None,
    }

    # when their first grant creates the subject
    subject = subject_get_or_create(claims=identity_claims(stranger))
    choose(subject, "marketing_email", True)

    # then the cached default is not served
    answer = consent_check(actor=tester, identity=stranger, purpose="marketing_email")
    assert answer["allowed"] is True
    assert answer["state"] == "granted"


def test_an_older_event_arriving_late_is_kept_but_does_not_win(
    ada, choose, tester, purpose
):
    # given a grant made now
    choose(ada, "analytics", True)

    # when a withdrawal made an hour ago arrives late (a widget syncing)
    late = consent_record(
        actor=tester,
        subject=ada,
        purpose=purpose("analytics"),
        action="withdraw",
        channel="chat_widget",
        occurred_at=timezone.now() - timedelta(hours=1),
    )

    # then it is kept as proof, but the newer grant still decides
    assert late.created is True
    assert ConsentEvent.objects.filter(subject=ada).count() == 2
    assert _check(tester, "analytics")["state"] == "granted"
    audit = AuditEvent.objects.get(action="consent.withdrawn")
    assert audit.data["applied"] is False


def test_withdrawing_consent_that_was_the_only_basis_opens_an_erasure_assessment(
    ada, choose, officer_actor
):
    choose(ada, "call_recording", True)

    choose(ada, "call_recording", False)

    assessment = ErasureAssessment.objects.get(subject=ada)
    assert assessment.purpose.slug == "call_recording"
    assert assessment.status == "open"
    audit = AuditEvent.objects.get(action="consent.erasure_assessment_needed")
    assert audit.data == {
        "subject": str(ada.public_id),
        "purpose": "call_recording",
        "event": str(assessment.event.public_id),
    }
    # nothing is filed automatically
    assert not ada.requests.exists()

    decided = erasure_assessment_decide(
        actor=officer_actor,
        assessment=assessment,
        status="not_needed",
        note="Recordings are already deleted after 90 days.",
    )
    assert decided.status == "not_needed"
    with pytest.raises(IllegalTransition):
        erasure_assessment_decide(
            actor=officer_actor,
            assessment=assessment,
            status="not_needed",
            note="again!",
        )


def test_no_erasure_assessment_without_earlier_consent_or_with_another_basis(
    ada, choose, officer_actor, purpose
):
    # never granted: withdrawing changes nothing that rested on consent
    choose(ada, "marketing_email", False)
    # another basis: withdrawal is an objection, not the end of the only basis
    purpose_update(
        actor=officer_actor,
        purpose=purpose("analytics"),
        legal_basis="legitimate_interests",
    )
    choose(ada, "analytics", True)
    choose(ada, "analytics", False)

    assert not ErasureAssessment.objects.exists()


def test_a_subject_may_record_only_their_own_consents(ada, choose):
    other = DataSubject.objects.create()
    events_before = ConsentEvent.objects.count()

    with pytest.raises(NotPermitted):
        consent_set(
            actor=actor_for_data_subject(subject=other),
            subject=ada,
            purpose="ai_training",
            granted=True,
            channel="portal",
        )

    assert ConsentEvent.objects.count() == events_before
    own = consent_set(
        actor=actor_for_data_subject(subject=ada),
        subject=ada,
        purpose="ai_training",
        granted=True,
        channel="portal",
    )
    assert own.event.recorded_by == f"data_subject:{ada.public_id}"


def test_an_auditor_cannot_record_consent(ada, auditor):
    with pytest.raises(NotPermitted):
        consent_set(
            actor=actor_for_user(auditor),
            subject=ada,
            purpose="ai_training",
            granted=True,
            channel="dashboard",
        )
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_bad_evidence_and_unknown_purposes_name_their_field(ada, tester):
    with pytest.raises(ValidationFailed) as error:
        consent_set(
            actor=tester,
            subject=ada,
            purpose="ai_training",
            granted=True,
            channel="portal",
            evidence={"ip": "not-an-ip"},
        )
    assert error.value.field == "evidence.ip"
    with pytest.raises(ValidationFailed) as error:
        consent_set(
            actor=tester, subject=ada, purpose="telepathy", granted=True, channel="api"
        )
    assert error.value.field == "purpose"
    assert not ConsentEvent.objects.exists()


def test_state_for_subject_lists_every_purpose_for_the_consent_page(ada, choose):
    choose(ada, "ai_training", True)
    choose(ada, "marketing_email", False)

    rows = {row.purpose.slug: row for row in consent_state_for_subject(subject=ada)}

    assert set(rows) == {
        "ai_processing",
        "ai_training",
        "analytics",
        "call_recording",
        "marketing_email",
    }
    assert rows["ai_training"].state == "granted"
    assert rows["ai_training"].allowed is True
    assert rows["marketing_email"].state == "withdrawn"
    assert rows["analytics"].state == "default"
    assert rows["analytics"].allowed is False
    for row in rows.values():
        assert "withdraw your consent at any time" in row.text
        assert "does not affect" in row.text
        assert row.current_version is not None
