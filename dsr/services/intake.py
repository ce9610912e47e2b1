"""Taking requests in: one as it arrives, or a batch a CRM forwards at once.

Both go the same way: every input is checked first (nothing is written while
one is wrong), then the requests are written in one transaction with one
audit append: subjects found or created together, one INSERT of the
requests, of their pauses, of their tasks. A request entered verified is
written verified (and in progress unless approval is needed) from the
start, with the same audit events as verifying it later: received,
verified, started, fanned_out.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from dsr.choices import (
    Channel,
    PauseReason,
    Regime,
    RequestKind,
    RequestStatus,
    VerificationMethod,
)
from dsr.clock import apply_deadlines, local_date
from dsr.models import ClockPause, Request
from dsr.review import review_before_release, review_before_work
from dsr.services.agents import AgentInput, agent_authorities_create, agent_input_clean
from dsr.services.execution.planning import requests_plan_tasks
from dsr.services.request_inputs import (
    choice_clean,
    received_at_clean,
    request_corrections_clean,
)
from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from privacydesk.history import history_bulk_create
from privacydesk.wiring import wired_tasks_send
from subjects.choices import IdentifierKind
from subjects.claims import Claim, identity_claims
from subjects.services import subjects_get_or_create

BATCH_MAX = 100  # requests in one batch
# Keyed-hash purposes of what intake notes for the flooding alerts: the
# sender's address (never stored itself) and the e-mail's domain.
SOURCE_IP_PURPOSE = "intake-source-ip"
EMAIL_DOMAIN_PURPOSE = "intake-email-domain"


def source_ip_hash(address: str | None) -> str | None:
    """The keyed hash a front door passes for the address a request came
    from (REMOTE_ADDR); the address itself goes no further."""
    return crypto.keyed_hash(address, purpose=SOURCE_IP_PURPOSE) if address else None


def _email_domain_hash(claims: list[Claim]) -> str | None:
    for kind, _namespace, value in claims:
        if kind == IdentifierKind.EMAIL and "@" in value:
            domain = value.rpartition("@")[2].strip().lower()
            return crypto.keyed_hash(domain, purpose=EMAIL_DOMAIN_PURPOSE)
    return None


_REQUIRED = {"kind", "regime", "identity"}
_FIELDS = {*_REQUIRED, "details", "corrections", "received_at", "verified", "agent"}


@dataclass(frozen=True)
class RequestInput:
    """One request's input, checked: what `requests_record` writes."""

    kind: str
    regime: str
    channel: str
    identity: Any
    claims: list[Claim]
    details: str
    corrections: dict[str, str] | None
    received_at: datetime
    verified: bool
    agent: AgentInput | None = None


def request_input_clean(
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
) -> RequestInput:
    """Check one request's input (no database); errors name the field.
    `agent`: filed by an authorised agent (dsr.services.agents)."""
    actor.require(Perm.REQUEST_CREATE)
    kind = choice_clean(kind, RequestKind, "kind")
    regime = choice_clean(regime, Regime, "regime")
    channel = choice_clean(channel, Channel, "channel")
    claims = identity_claims(identity)
    clean_corrections = request_corrections_clean(kind=kind, corrections=corrections)
    if len(details or "") > 10000:
        raise ValidationFailed("at most 10000 characters", field="details")
    if verified:
        actor.require(Perm.REQUEST_VERIFY)
    agent_input = agent_input_clean(agent, identity=identity, verified=verified)
    return RequestInput(
        kind=kind,
        regime=regime,
        channel=channel,
        identity=identity,
        claims=claims,
        details=(details or "").strip(),
        corrections=clean_corrections,
        received_at=received_at_clean(actor, received_at),
        verified=bool(verified),
        agent=agent_input,
    )


def requests_inputs_clean(
    *, actor: Actor, channel: str, items: Any, field: str = "requests"
) -> list[RequestInput]:
    """Check every request of a batch; the faults of all of them in one
    ValidationFailed, each under the item's path (`requests[3].identity.email`).
    A missing scope is a NotPermitted at the first item that needs it."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("give a list of at least one request", field=field)
    if len(items) > BATCH_MAX:
        raise ValidationFailed(
            f"at most {BATCH_MAX} requests at once (got {len(items)})", field=field
        )
    inputs: list[RequestInput] = []
    errors: dict[str, list[str]] = {}
    for position, item in enumerate(items):
        path = f"{field}[{position}]"
        if not isinstance(item, Mapping):
            errors[path] = ["must be an object"]
            continue
        unknown = sorted(set(item) - _FIELDS, key=str)
        missing = sorted(_REQUIRED - set(item))
        if unknown or missing:
            name = unknown[0] if unknown else missing[0]
            errors[f"{path}.{name}"] = ["unknown field" if unknown else "required"]
            continue
        try:
            inputs.append(request_input_clean(actor=actor, channel=channel, **item))
        except ValidationFailed as error:
            errors[f"{path}.{error.field}" if error.field else path] = [error.message]
    if errors:
        raise ValidationFailed(
            f"{len(errors)} of {len(items)} requests are invalid; none was recorded",
            errors=errors,
        )
    return inputs


def requests_record(
    *,
    actor: Actor,
    inputs: list[RequestInput],
    prefetched: bool = False,
    source_ip_hash: str | None = None,
) -> list[Request]:
    """Write checked requests, in order, in one transaction with one audit
    append; their tasks are sent to the worker after commit.

    `source_ip_hash`: `source_ip_hash(REMOTE_ADDR)` of the HTTP request they
    came in, noted on each `request.received` event with a keyed hash of the
    e-mail domain (alerts watch both for floods; neither names anyone).

    `prefetched`: leave on each request the pauses and tasks just written, as
    prefetch_related would, so an answer built at once reads them without a
    query (like any prefetch, they do not follow later changes)."""
    method = (
        VerificationMethod.API_VOUCHED
        if actor.kind == "api"
        else VerificationMethod.STAFF_CHECKED
    )
    approval = settings.REQUESTS_REQUIRE_APPROVAL
    with transaction.atomic(), audit_batch():
        subjects = subjects_get_or_create(
            claim_sets=[item.claims for item in inputs],
            link_all=[item.verified for item in inputs],
        )
        now = timezone.now()
        requests: list[Request] = []
        pauses: list[list[ClockPause]] = []
        for item, subject in zip(inputs, subjects, strict=True):
            request = Request(
                reference=f"TMP-{uuid.uuid4().hex[:16]}",
                subject=subject,
                kind=item.kind,
                regime=item.regime,
                channel=item.channel,
                identity=item.identity,
                details=item.details,
                corrections=item.corrections,
                received_at=item.received_at,
                requires_approval=approval,
                review_before_work=review_before_work(
                    kind=item.kind, regime=item.regime
                ),
                review_before_release=review_before_release(kind=item.kind),
                created_by=actor.ref,
            )
            # An officer reviews it before the work starts: an approval.
            request.requires_approval = approval or request.review_before_work
            own: list[ClockPause] = []
            if item.verified:
                request.status = (
                    RequestStatus.VERIFIED
                    if request.requires_approval
                    else RequestStatus.IN_PROGRESS
                )
                request.verified_at = now
                request.verification_method = method
                request.verified_by = actor.ref
            else:
                # We ask for proof of identity now; the regime decides whether
                # and how this stops the clock (dsr.deadlines).
                own.append(
                    ClockPause(
                        request=request, reason=PauseReason.IDENTITY, started_at=now
                    )
                )
            apply_deadlines(request, pauses=own)
            requests.append(request)
            pauses.append(own)
        Request.objects.bulk_create(requests)
        for request in requests:
            year = local_date(request.received_at).year
            request.reference = f"DSR-{year}-{request.pk:06d}"
        Request.objects.bulk_update(requests, ["reference"])
        history_bulk_create(Request, requests)
        ClockPause.objects.bulk_create([p for own in pauses for p in own])
        started = [r for r in requests if r.status == RequestStatus.IN_PROGRESS]
        request_verified_send(
            request_ids=[r.pk for r in requests if r.verified_at is not None]
        )
        for item, request in zip(inputs, requests, strict=True):
            _audit_intake(
                actor,
                request,
                method,
                source={
                    "ip_hash": source_ip_hash,
                    "email_domain_hash": _email_domain_hash(item.claims),
                },
            )
        agent_authorities_create(
            actor=actor,
            pairs=[
                (request, item.agent)
                for request, item in zip(requests, inputs, strict=True)
                if item.agent is not None
            ],
        )
        planned = dict(
            zip(
                (r.pk for r in started),
                requests_plan_tasks(actor=actor, requests=started),
                strict=True,
            )
        )
    if prefetched:
        for request, own in zip(requests, pauses, strict=True):
            _prefetched(request, "pauses", own)
            _prefetched(request, "tasks", planned.get(request.pk, []))
    return requests


def _audit_intake(
    actor: Actor, request: Request, method: str, *, source: dict[str, str | None]
) -> None:
    """The events of a request taken in: received; verified and started when
    it came verified (planning adds fanned_out). `source`: the keyed hashes
    of where it came from, those known."""
    audit_record(
        actor=actor,
        action="request.received",
        obj=request,
        data={
            "kind": request.kind,
            "regime": request.regime,
            "channel": request.channel,
            "received_at": request.received_at,
            "due_on": request.due_on,
            **{key: value for key, value in source.items() if value},
        },
    )
    if request.verified_at is None:
        return
    audit_record(
        actor=actor,
        action="request.verified",
        obj=request,
        data={"method": method, "due_on": request.due_on},
    )
    if request.status == RequestStatus.IN_PROGRESS:
        audit_record(actor=actor, action="request.started", obj=request, data={})


def _prefetched(request: Request, name: str, rows: list[Any]) -> None:
    """`request.<name>.all()` answers `rows` without a query, as after
    prefetch_related (the same cache, built the same way)."""
    queryset = getattr(request, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = request.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def request_verified_send(*, request_ids: list[int]) -> None:
    """After commit, what the composition root wired to a verification
    (settings.REQUEST_VERIFIED_TASKS: an erasure or objection excludes the
    subject from model training), one message for the lot."""
    if request_ids:
        transaction.on_commit(
            lambda: wired_tasks_send("REQUEST_VERIFIED_TASKS", args=[request_ids])
        )
