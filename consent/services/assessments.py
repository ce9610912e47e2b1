"""Erasure assessments: opened when consent, the only legal basis, is
withdrawn (GDPR 17(1)(b)); closed by staff with a decision and a reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from consent.choices import AssessmentStatus
from consent.models import ConsentEvent, ErasureAssessment, Purpose
from privacydesk.errors import IllegalTransition, ValidationFailed


def erasure_assessment_open(
    actor: Actor, event: ConsentEvent, purpose: Purpose
) -> None:
    """Consent was the only basis: staff must decide whether data goes (17(1)(b))."""
    if ErasureAssessment.objects.filter(
        subject_id=event.subject_id, purpose=purpose, status=AssessmentStatus.OPEN
    ).exists():
        return
    assessment = ErasureAssessment.objects.create(
        subject_id=event.subject_id, purpose=purpose, event=event
    )
    audit_record(
        actor=actor,
        action="consent.erasure_assessment_needed",
        obj=assessment,
        data={
            "subject": str(event.subject.public_id),
            "purpose": purpose.slug,
            "event": str(event.public_id),
        },
    )


def erasure_assessment_decide(
    *, actor: Actor, assessment: ErasureAssessment, status: str, note: str
) -> ErasureAssessment:
    """Close an assessment: an erasure was filed, or none is needed (and why)."""
    actor.require(Perm.CONSENT_MANAGE)
    if status not in (AssessmentStatus.ERASURE_REQUESTED, AssessmentStatus.NOT_NEEDED):
        raise ValidationFailed("erasure_requested or not_needed", field="status")
    text = (note or "").strip()
    if len(text) < 5:
        raise ValidationFailed("say why (at least a few words)", field="note")
    with transaction.atomic():
        changed = ErasureAssessment.objects.filter(
            pk=assessment.pk, status=AssessmentStatus.OPEN
        ).update(
            status=status,
            note=text,
            decided_by=actor.ref,
            decided_at=timezone.now(),
        )
        if changed != 1:
            raise IllegalTransition("this assessment is decided already")
        audit_record(
            actor=actor,
            action="consent.erasure_assessment_decided",
            obj=assessment,
            data={"status": status},
        )
    assessment.refresh_from_db()
    return assessment
