"""The request lifecycle: every transition is one function, one transaction,
one audit event. Which transitions are legal is dsr.lifecycle's table; an
illegal one raises IllegalTransition (409 in the API).

Here: intake, verification, approval, refusal and closing; the clock
(extend, pause, resume) is `clock`, the input rules `request_inputs`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from dsr.choices import (
    DenialBasis,
    PauseReason,
    RequestStatus,
    VerificationMethod,
)
from dsr.clock import apply_deadlines, local_date
from dsr.lifecycle import (
    RequestAction,
    request_awaiting_review,
    request_transition_check,
)
from dsr.models import Request, RequestNote
from dsr.selectors import request_assignees
from dsr.services.agents import agent_permission_discard, agent_refusal
from dsr.services.execution.planning import request_plan_tasks
from dsr.services.intake import (
    request_input_clean,
    request_verified_send,
    requests_inputs_clean,
    requests_record,
)
from dsr.services.recipients import recipient_notifications_plan
from dsr.services.request_inputs import choice_clean, reason_clean
from privacydesk.errors import IllegalTransition, ValidationFailed
from privacydesk.wiring import wired_tasks_send
from subjects.claims import identity_claims
from subjects.services import subject_link_identifiers

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What verifying writes, and what apply_deadlines sets (saved by name: the
# rest of the row, its encrypted identity included, is left as it is).
_VERIFIED_FIELDS = ["status", "verified_at", "verification_method", "verified_by"]
DEADLINE_FIELDS = [
    "clock_start_on",
    "due_on",
    "standard_due_on",
    "extension_notice_by",
    "acknowledge_by",
    "updated_at",
]


def _enqueue_after_close(request: Request, notice: str | None) -> None:
    """After commit, one message for what a closed request still needs: the
    subject's notice and the evidence pack (issue 6). See
    dsr.tasks.request_closed_task."""
    # Local: dsr.tasks imports the services back (task <-> service pair).
    from dsr.tasks import request_closed_task

    transaction.on_commit(lambda: request_closed_task.delay(request.pk, notice))


def request_lock(request: Request) -> Request:
    """The request's row, locked for a transition."""
    # The subject rides along (most transitions read it), unlocked.
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("subject")
        .get(pk=request.pk)
    )


def request_audit(actor: Actor, request: Request, action: str, **data: Any) -> None:
    """The audit event of a transition (`request.<action>`)."""
    audit_record(actor=actor, action=f"request.{action}", obj=request, data=data)


def request_create(
    *,
    actor: Actor,
    kind: str,
    regime: str,
    channel: str,
    identity: Any,
    details: str = "",
    corrections: Any = None,
    received_at: datetime | None = None,
    verified: bool = False,
    agent: Any = None,
    prefetched: bool = False,
    source_ip_hash: str | None = None,
) -> Request:
    """Record a request as it arrived; the clock starts at `received_at`.
    Entered `verified`, it is verified (and started) at once. `prefetched`,
    `source_ip_hash`: see `requests_record`."""
    item = request_input_clean(
        actor=actor,
        kind=kind,
        regime=regime,
        channel=channel,
        identity=identity,
        details=details,
        corrections=corrections,
        received_at=received_at,
        verified=verified,
        agent=agent,
    )
    return requests_record(
        actor=actor,
        inputs=[item],
        prefetched=prefetched,
        source_ip_hash=source_ip_hash,
    )[0]


def requests_create_many(
    *,
    actor: Actor,
    channel: str,
    items: Any,
    field: str = "requests",
    prefetched: bool = False,
    source_ip_hash: str | None = None,
) -> list[Request]:
    """Record a batch of requests (each what `request_create` takes, less
    the channel): all checked first, nothing written if one is wrong (every
    fault named under `requests[<i>]`), then all in one transaction."""
    inputs = requests_inputs_clean(
        actor=actor, channel=channel, items=items, field=field
    )
    return requests_record(
        actor=actor,
        inputs=inputs,
        prefetched=prefetched,
        source_ip_hash=source_ip_hash,
    )


def request_mark_verified(*, actor: Actor, request: Request, method: str) -> Request:
    """received -> verified (and on to in_progress unless approval is needed).

    Callers check who may verify; this is shared by staff, API and portal."""
    with transaction.atomic(), audit_batch():
        request = request_lock(request)
        request_transition_check(action=RequestAction.VERIFY, request=request)
        waiting_for = agent_refusal(request=request)
        if waiting_for is not None:  # CCPA-REG §7063 (B16)
            raise IllegalTransition(f"cannot verify: {waiting_for}")
        agent_permission_discard(request=request)
        now = timezone.now()
        request.pauses.filter(
            reason=PauseReason.IDENTITY, ended_at__isnull=True
        ).update(ended_at=now)
        subject_link_identifiers(
            subject=request.subject, claims=identity_claims(request.identity)
        )
        request.status = RequestStatus.VERIFIED
        request.verified_at = now
        request.verification_method = method
        request.verified_by = actor.ref
        apply_deadlines(request)
        starts = not request.requires_approval
        if starts:  # verified and started in one write; both are audited
            request.status = RequestStatus.IN_PROGRESS
        request.save(update_fields=[*_VERIFIED_FIELDS, *DEADLINE_FIELDS])
        request_audit(actor, request, "verified", method=method, due_on=request.due_on)
        request_verified_send(request_ids=[request.pk])
        if starts:
            _begin_work(actor=actor, request=request, first=True)
        return request


def _start(*, actor: Actor, request: Request) -> Request:
    """verified -> in_progress, for a caller that checked the transition."""
    request.status = RequestStatus.IN_PROGRESS
    request.save()
    _begin_work(actor=actor, request=request)
    return request


def _begin_work(*, actor: Actor, request: Request, first: bool = False) -> None:
    """A request that has just become in progress: audit it, fan it out
    (`first`: it never was before, so it has no tasks yet)."""
    request_audit(actor, request, "started")
    request_plan_tasks(actor=actor, request=request, fresh=first)
    # What the composition root wired to a start (settings.REQUEST_STARTED_
    # TASKS: the OpenDSR door tells its controller), as for a close.
    request_id, channel = request.pk, request.channel
    transaction.on_commit(
        lambda: wired_tasks_send(
            "REQUEST_STARTED_TASKS", args=[request_id], channel=channel
        )
    )


def request_verify(*, actor: Actor, request: Request, method: str) -> Request:
    """Staff or a trusted system confirms the requester's identity."""
    actor.require(Perm.REQUEST_VERIFY)
    choice_clean(method, VerificationMethod, "method")
    return request_mark_verified(actor=actor, request=request, method=method)


@transaction.atomic
def request_approve(*, actor: Actor, request: Request, note: str = "") -> Request:
    """verified -> in_progress, by an officer. A request under review before
    its erasure (REVIEW_BEFORE_ERASURE) is approved with a note saying what
    was checked; the note is kept (encrypted) with the request's notes."""
    actor.require(Perm.REQUEST_APPROVE)
    request = request_lock(request)
    request_transition_check(action=RequestAction.APPROVE, request=request)
    text = reason_clean(note, field="note", required=request.review_before_work)
    request.approved_at = timezone.now()
    request.approved_by = actor.ref
    request.save()
    data: dict[str, Any] = {"review": True} if request.review_before_work else {}
    if text:
        data["note_id"] = RequestNote.objects.create(
            request=request, author=actor.ref, author_label=actor.label, text=text
        ).pk
    request_audit(actor, request, "approved", **data)
    return _start(actor=actor, request=request)


@transaction.atomic
def request_reject(
    *, actor: Actor, request: Request, reason: str, basis: str = ""
) -> Request:
    """Refuse to act. GDPR 12(4): the subject is told why, and of the right to
    complain to a supervisory authority and to seek a judicial remedy.
    `basis`: the ground as CCPA metrics count denials (a DenialBasis), if
    stated."""
    actor.require(Perm.REQUEST_REJECT)
    text = reason_clean(reason)
    if basis:
        choice_clean(basis, DenialBasis, "basis")
    request = request_lock(request)
    request_transition_check(action=RequestAction.REJECT, request=request)
    old = request.status
    # Refused at an officer's review ("approval": before the work; "release":
    # with its package held), which the evidence shows.
    review = request_awaiting_review(request=request)
    request.status = RequestStatus.REJECTED
    agent_permission_discard(request=request)
    request.status_reason = text
    request.denial_basis = basis
    request.closed_at = timezone.now()
    request.save()
    request_audit(
        actor,
        request,
        "rejected",
        previous_status=old,
        basis=basis or None,
        **({"at_review": review} if review else {}),
    )
    _enqueue_after_close(request, "rejected")
    return request


@transaction.atomic
def request_cancel(*, actor: Actor, request: Request, reason: str = "") -> Request:
    actor.require(Perm.REQUEST_CANCEL)
    text = reason_clean(reason, required=False)
    request = request_lock(request)
    request_transition_check(action=RequestAction.CANCEL, request=request, actor=actor)
    old = request.status
    request.status = RequestStatus.CANCELLED
    agent_permission_discard(request=request)
    request.status_reason = text
    request.closed_at = timezone.now()
    request.pauses.filter(ended_at__isnull=True).update(ended_at=request.closed_at)
    request.save()
    request_audit(
        actor,
        request,
        "cancelled",
        previous_status=old,
        by_subject=actor.kind == "subject",
    )
    _enqueue_after_close(request, "cancelled")
    return request


CLOSING_OUTCOMES = (
    RequestStatus.COMPLETED,
    RequestStatus.PARTIALLY_COMPLETED,
    RequestStatus.FAILED,
)


@transaction.atomic
def request_close(
    *,
    actor: Actor,
    request: Request,
    outcome: str,
    note: str = "",
    notice: str | None = "closed",
) -> Request:
    """in_progress -> completed / partially_completed / failed.

    `notice`: the e-mail the subject gets ("closed"; "package_ready" with
    the access package's download page; None for none)."""
    actor.require(Perm.REQUEST_CLOSE)
    if outcome not in CLOSING_OUTCOMES:
        raise ValidationFailed(
            f"must be one of {', '.join(CLOSING_OUTCOMES)}", field="outcome"
        )
    text = reason_clean(note, field="note", required=outcome != RequestStatus.COMPLETED)
    request = request_lock(request)
    request_transition_check(action=RequestAction.CLOSE, request=request)
    return request_close_locked(
        actor=actor, request=request, outcome=outcome, note=text, notice=notice
    )


def request_close_locked(
    *, actor: Actor, request: Request, outcome: str, note: str, notice: str | None
) -> Request:
    """The close itself, for a caller that holds the request's row lock and
    has checked that it is in progress (the executor's finalizer): no second
    lock read, no savepoint."""
    request.status = outcome
    request.status_reason = note
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
    on_time = local_date(request.closed_at) <= request.due_on
    request_audit(actor, request, "closed", outcome=outcome, on_time=on_time)
    # Art. 19: the recipients of every store the change reached are told
    # (recorded here, before the subject's notice names them).
    recipient_notifications_plan(actor=actor, request=request)
    _enqueue_after_close(request, notice)
    return request


@transaction.atomic
def request_add_note(*, actor: Actor, request: Request, text: str) -> RequestNote:
    actor.require(Perm.REQUEST_NOTE)
    request_transition_check(action=RequestAction.NOTE, request=request)
    body = (text or "").strip()
    if not body:
        raise ValidationFailed("a note cannot be empty", field="text")
    if len(body) > 10000:
        raise ValidationFailed("at most 10000 characters", field="text")
    note = RequestNote.objects.create(
        request=request, author=actor.ref, author_label=actor.label, text=body
    )
    request_audit(actor, request, "note_added", note_id=note.pk)
    return note


@transaction.atomic
def request_assign(*, actor: Actor, request: Request, assignee: User | None) -> Request:
    """Name the staff member working an open request (None: nobody). Only
    staff whose role works requests can be named (`request_assignees`)."""
    actor.require(Perm.REQUEST_ASSIGN)
    if assignee is not None and not request_assignees().filter(pk=assignee.pk):
        raise ValidationFailed(
            "can be given only to staff who work requests", field="assignee"
        )
    request = request_lock(request)
    request_transition_check(action=RequestAction.ASSIGN, request=request)
    if request.assignee_id == (assignee.pk if assignee is not None else None):
        return request  # no change, no event
    previous = request.assignee_id
    request.assignee = assignee
    request.save(update_fields=["assignee", "updated_at"])
    request_audit(
        actor,
        request,
        "assigned",
        assignee=f"user:{assignee.pk}" if assignee is not None else None,
        previous=f"user:{previous}" if previous is not None else None,
    )
    return request
