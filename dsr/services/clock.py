"""The request's clock: extending the period, pausing and resuming it, and
the stored dates refreshed (dsr.clock computes them, dsr.deadlines holds
each regime's rules)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from dsr.choices import PauseReason
from dsr.clock import apply_deadlines, deadline_rules, local_date
from dsr.deadlines.counting import Pause, pause_is_honoured
from dsr.lifecycle import RequestAction, request_transition_check
from dsr.models import ClockPause, Request
from dsr.services.request_inputs import choice_clean, reason_clean
from dsr.services.requests import DEADLINE_FIELDS, request_audit, request_lock
from privacydesk.errors import IllegalTransition


def _enqueue_notice(request: Request, notice: str) -> None:
    # Local: dsr.tasks imports the services back (task <-> service pair).
    from dsr.tasks import send_subject_notice_task

    transaction.on_commit(lambda: send_subject_notice_task.delay(request.pk, notice))


@transaction.atomic
def request_extend(*, actor: Actor, request: Request, reason: str) -> Request:
    """Extend by two further months (GDPR 12(3)) or 45 days (CCPA).

    Allowed once, only while the first period runs, and only with the notice
    and its reasons sent to the subject now."""
    actor.require(Perm.REQUEST_EXTEND)
    text = reason_clean(reason)
    request = request_lock(request)
    apply_deadlines(request)  # the window as of today (a pause moves it)
    request_transition_check(action=RequestAction.EXTEND, request=request)
    before = request.due_on
    request.extended_at = timezone.now()
    request.extension_reason = text
    apply_deadlines(request)
    request.save()
    request_audit(
        actor, request, "extended", due_on_before=before, due_on=request.due_on
    )
    _enqueue_notice(request, "extended")
    return request


@transaction.atomic
def request_pause(*, actor: Actor, request: Request, reason: str) -> Request:
    """Stop the clock while waiting for the subject (clarification or ID)."""
    actor.require(Perm.REQUEST_PAUSE)
    reason = choice_clean(reason, PauseReason, "reason")
    request = request_lock(request)
    request_transition_check(action=RequestAction.PAUSE, request=request)
    now = timezone.now()
    pause = Pause(reason=reason, started_on=local_date(now), ended_on=None)
    rules = deadline_rules(request.regime)
    if not pause_is_honoured(
        pause, received_on=local_date(request.received_at), rules=rules
    ):
        # EDPB 01/2022 para 159: ID must be asked for without undue delay;
        # UK/CCPA rules may not allow this kind of pause at all.
        raise IllegalTransition(
            f"a {reason} pause does not stop the clock of {request.reference} "
            f"under {request.get_regime_display()} rules"
            + (
                " (the identity request comes too late)"
                if rules.identity == "suspend"
                else ""
            )
        )
    ClockPause.objects.create(request=request, reason=reason, started_at=now)
    apply_deadlines(request)
    request.save()
    request_audit(actor, request, "paused", reason=reason)
    return request


@transaction.atomic
def request_resume(*, actor: Actor, request: Request) -> Request:
    actor.require(Perm.REQUEST_PAUSE)
    request = request_lock(request)
    request_transition_check(action=RequestAction.RESUME, request=request)
    request.pauses.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    apply_deadlines(request)
    request.save()
    request_audit(actor, request, "resumed", due_on=request.due_on)
    return request


@transaction.atomic
def request_refresh_deadlines(*, request: Request) -> Request:
    """Recompute stored dates (a running pause moves them day by day)."""
    request = request_lock(request)
    apply_deadlines(request)
    request.save(update_fields=DEADLINE_FIELDS)
    return request
