"""The derived consent state of a subject and purpose, and what a
withdrawal sets off (an erasure assessment, propagation to connectors)."""

from __future__ import annotations

from accounts.actors import Actor
from consent.choices import ConsentAction, ConsentStatus, LegalBasis
from consent.models import ConsentEvent, ConsentState, Purpose
from consent.selectors import policy_version_renewal_floor
from consent.services.assessments import erasure_assessment_open
from consent.services.propagations import propagations_plan


def consent_state_derive(event: ConsentEvent, purpose: Purpose) -> str:
    """The state an applied event leaves: withdrawn, granted, or granted on
    wording since replaced (needs renewal)."""
    if event.action == ConsentAction.WITHDRAW:
        return ConsentStatus.WITHDRAWN
    floor = policy_version_renewal_floor(purpose=purpose)
    version = event.policy_version
    if floor is not None and (version.effective_at, version.pk) < (
        floor.effective_at,
        floor.pk,
    ):
        return ConsentStatus.NEEDS_RENEWAL  # consent to wording since replaced
    return ConsentStatus.GRANTED


def consent_state_save(
    state: ConsentState | None, event: ConsentEvent, new: str
) -> None:
    """Create or update the subject's state row for the event's purpose."""
    values = {
        "granted": event.action == ConsentAction.GRANT,
        "state": new,
        "policy_version": event.policy_version,
        "since": event.occurred_at,
        "last_event": event,
    }
    if state is None:
        ConsentState.objects.create(
            subject_id=event.subject_id, purpose_id=event.purpose_id, **values
        )
        return
    for name, value in values.items():
        setattr(state, name, value)
    state.save()


def consent_withdrawal_follow_up(
    actor: Actor, event: ConsentEvent, purpose: Purpose, previous: str
) -> None:
    """An applied withdrawal: open an erasure assessment when consent was the
    basis, and propagate to the purpose's connectors once."""
    had_consent = previous in (ConsentStatus.GRANTED, ConsentStatus.NEEDS_RENEWAL) or (
        previous == ConsentStatus.DEFAULT and purpose.default_granted
    )
    if had_consent and purpose.legal_basis == LegalBasis.CONSENT:
        erasure_assessment_open(actor, event, purpose)
    if purpose.propagate and previous != ConsentStatus.WITHDRAWN:
        propagations_plan(event=event, purpose=purpose)
