"""What sets an exclusion off: a verified erasure or objection, and the
model-training purpose's consent changing. Reached by task name from the
apps below (settings.REQUEST_VERIFIED_TASKS, CONSENT_CHANGED_TASKS), which
never import this app; `exclusions_sync` catches up on anything a lost
message missed (and on what happened before the app existed).

Decisions, documented in the README ("Training data"):
- an erasure or objection excludes the subject from when the request is
  verified (the person is known; the outcome of the request does not undo
  the wish), and a later rejection or cancellation does not lift it;
- consent follows the purpose's *current* state, not the order in which
  messages arrive: withdrawn excludes, granted lifts a withdrawal-only
  exclusion. Needs-renewal (granted on older wording) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from accounts.actors import actor_system
from consent.choices import ConsentStatus
from consent.models import ConsentState
from dsr.choices import RequestKind
from dsr.models import Request
from training.choices import ExclusionReason, ExclusionSource
from training.models import TrainingExclusion
from training.services.exclusions import exclusion_record, exclusions_lift_for_consent

ACTOR = actor_system("training")
REASONS = {
    RequestKind.ERASURE: ExclusionReason.ERASURE,
    RequestKind.OBJECTION: ExclusionReason.OBJECTION,
}


def exclusions_for_requests(*, request_ids: Iterable[int]) -> list[TrainingExclusion]:
    """An exclusion for each verified erasure or objection among these."""
    requests = Request.objects.filter(
        pk__in=list(request_ids),
        kind__in=list(REASONS),
        verified_at__isnull=False,
    ).select_related("subject")
    return [
        exclusion_record(
            actor=ACTOR,
            subject=request.subject,
            reason=REASONS[RequestKind(request.kind)],
            source_type=ExclusionSource.REQUEST,
            source_id=request.public_id,
        )
        for request in requests.order_by("pk")
    ]


def exclusions_for_consent(*, subject_id: int) -> None:
    """Bring the subject's consent exclusion in line with their current
    choice for the model-training purpose."""
    state = (
        ConsentState.objects.filter(
            subject_id=subject_id, purpose__slug=settings.TRAINING_CONSENT_PURPOSE
        )
        .select_related("subject", "last_event")
        .first()
    )
    if state is None:
        return
    if state.state == ConsentStatus.WITHDRAWN:
        exclusion_record(
            actor=ACTOR,
            subject=state.subject,
            reason=ExclusionReason.CONSENT_WITHDRAWN,
            source_type=ExclusionSource.CONSENT_EVENT,
            source_id=state.last_event.public_id,
        )
    elif state.state == ConsentStatus.GRANTED:
        exclusions_lift_for_consent(
            actor=ACTOR, subject=state.subject, event_id=state.last_event.public_id
        )


def exclusions_sync() -> int:
    """Record every exclusion a lost message left out; returns how many
    subjects or requests were looked at. Safe to run at any time."""
    pending = Request.objects.filter(
        kind__in=list(REASONS), verified_at__isnull=False
    ).exclude(
        public_id__in=TrainingExclusion.objects.filter(
            source_type=ExclusionSource.REQUEST
        ).values("source_id")
    )
    request_ids = list(pending.values_list("pk", flat=True))
    for start in range(0, len(request_ids), 500):
        exclusions_for_requests(request_ids=request_ids[start : start + 500])
    withdrawn = ConsentState.objects.filter(
        purpose__slug=settings.TRAINING_CONSENT_PURPOSE, state=ConsentStatus.WITHDRAWN
    ).exclude(
        subject_id__in=TrainingExclusion.objects.filter(
            reason=ExclusionReason.CONSENT_WITHDRAWN, lifted_at__isnull=True
        ).values("subject_id")
    )
    regranted = ConsentState.objects.filter(
        purpose__slug=settings.TRAINING_CONSENT_PURPOSE,
        state=ConsentStatus.GRANTED,
        subject_id__in=TrainingExclusion.objects.filter(
            reason=ExclusionReason.CONSENT_WITHDRAWN, lifted_at__isnull=True
        ).values("subject_id"),
    )
    subject_ids = [
        *withdrawn.values_list("subject_id", flat=True),
        *regranted.values_list("subject_id", flat=True),
    ]
    for subject_id in subject_ids:
        exclusions_for_consent(subject_id=subject_id)
    return len(request_ids) + len(subject_ids)
