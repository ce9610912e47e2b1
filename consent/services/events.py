"""Recording consent: every grant or withdrawal is a new, unchangeable event.

One service applies an event (`consent_record`); the API, the portal, the
dashboard and the GPC signal all go through it, so every path writes the same
evidence, updates the derived state under the subject's row lock, writes an
audit event, retires cached answers after commit, and on withdrawal opens an
erasure assessment (GDPR 17(1)(b)) and propagates to linked connectors.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from consent.cache import invalidate_identifiers_on_commit
from consent.choices import (
    AssessmentStatus,
    ConsentAction,
    ConsentChannel,
    ConsentStatus,
    LegalBasis,
)
from consent.models import (
    ConsentEvent,
    ConsentState,
    ErasureAssessment,
    PolicyVersion,
    Purpose,
)
from consent.selectors import (
    policy_version_current,
    policy_version_renewal_floor,
    purpose_get,
)
from consent.services.propagations import propagations_plan
from privacydesk import crypto
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed
from subjects.claims import Claim
from subjects.models import DataSubject, SubjectIdentifier

# Clocks of integrations drift; a choice "from the future" beyond this is a bug.
FUTURE_SKEW = timedelta(minutes=5)
_TEXT_EVIDENCE = {"user_agent": 500, "ai_disclosure_version": 50, "ui_element": 200}
_EVIDENCE_KEYS = {*_TEXT_EVIDENCE, "gpc", "ip"}
IP_HASH_PURPOSE = "consent-evidence-ip"


@dataclass(frozen=True)
class Recorded:
    """An event and whether this call created it (False: an idempotent replay)."""

    event: ConsentEvent
    created: bool


def actor_for_data_subject(*, subject: DataSubject) -> Actor:
    """The subject acting on their own consents (the portal, once verified)."""
    return Actor(
        kind="subject",
        ref=f"data_subject:{subject.public_id}",
        label="the data subject",
        permissions=frozenset({Perm.CONSENT_VIEW, Perm.CONSENT_RECORD}),
    )


def _require_record(actor: Actor, subject: DataSubject) -> None:
    actor.require(Perm.CONSENT_RECORD)
    if actor.kind == "subject" and actor.ref != f"data_subject:{subject.public_id}":
        raise NotPermitted("a data subject may record only their own consents")


# --- input rules --------------------------------------------------------------


def evidence_clean(
    raw: Any, *, field: str = "evidence", request_ip: str | None = None
) -> dict[str, Any]:
    """The evidence kept with an event; an IP is only ever kept as a keyed hash.

    `ip` in the evidence is the subject's address as the caller saw it; when
    absent, `request_ip` (the address the call came from) is used instead.
    """
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed("must be an object", field=field)
    unknown = sorted(set(raw) - _EVIDENCE_KEYS)
    if unknown:
        raise ValidationFailed("unknown key", field=f"{field}.{unknown[0]}")
    clean: dict[str, Any] = {}
    for key, limit in _TEXT_EVIDENCE.items():
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise ValidationFailed(
                f"a string of at most {limit} characters", field=f"{field}.{key}"
            )
        clean[key] = value.strip()
    gpc = raw.get("gpc", False)
    if not isinstance(gpc, bool):
        raise ValidationFailed("must be true or false", field=f"{field}.gpc")
    clean["gpc"] = gpc
    ip, source = raw.get("ip"), "evidence"
    if ip in (None, ""):
        ip, source = request_ip, "request"
    elif not isinstance(ip, str):
        raise ValidationFailed("not an IP address", field=f"{field}.ip")
    if ip:
        try:
            address = ipaddress.ip_address(str(ip).strip()).compressed
        except ValueError as exc:
            raise ValidationFailed("not an IP address", field=f"{field}.ip") from exc
        clean["ip_hash"] = crypto.keyed_hash(address, purpose=IP_HASH_PURPOSE)
        clean["ip_source"] = source
    return clean


def purpose_from_input(value: Any, field: str) -> Purpose:
    purpose = purpose_get(slug=value) if isinstance(value, str) else None
    if purpose is None:
        raise ValidationFailed("unknown purpose", field=field)
    return purpose


def version_from_input(purpose: Purpose, label: Any, field: str) -> PolicyVersion:
    if label in (None, ""):
        version = policy_version_current(purpose=purpose)
        if version is None:
            raise ValidationFailed("this purpose has no published policy", field=field)
        return version
    version = PolicyVersion.objects.filter(purpose=purpose, version=label).first()
    if version is None:
        raise ValidationFailed(f"no version {label!r} of {purpose.slug}", field=field)
    return version


def _occurred_at(value: datetime | None, field: str = "occurred_at") -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if value > now + FUTURE_SKEW:
        raise ValidationFailed("must not be in the future", field=field)
    return value


def claim_indexes(claims: Iterable[Claim]) -> list[str]:
    return [crypto.blind_index(kind, value, namespace=ns) for kind, ns, value in claims]


# --- the one place an event is applied -----------------------------------------


def _new_state(event: ConsentEvent, purpose: Purpose) -> str:
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


def consent_record(
    *,
    actor: Actor,
    subject: DataSubject,
    purpose: Purpose,
    action: str,
    channel: str,
    policy_version: PolicyVersion | None = None,
    source_system: str = "",
    occurred_at: datetime | None = None,
    evidence: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    identifier_indexes: Iterable[str] = (),
) -> Recorded:
    """Append one event and bring the derived state up to date.

    Runs in the caller's transaction (or its own). `evidence` must already be
    clean (`evidence_clean`). An event older than the state's latest is kept
    but does not change the state: the newest choice wins.
    """
    _require_record(actor, subject)
    if action not in ConsentAction.values:
        raise ValidationFailed("grant or withdraw", field="action")
    if channel not in ConsentChannel.values:
        raise ValidationFailed(
            f"one of {', '.join(ConsentChannel.values)}", field="channel"
        )
    version = policy_version or version_from_input(purpose, None, "policy_version")
    if version.purpose_id != purpose.pk:
        raise ValidationFailed("belongs to another purpose", field="policy_version")
    evidence = dict(evidence or {"gpc": False})
    if channel == ConsentChannel.GPC:
        if action != ConsentAction.WITHDRAW:
            raise ValidationFailed("a GPC signal only opts out", field="action")
        evidence["gpc"] = True
    with transaction.atomic():
        # One writer per subject at a time: the state row and its events agree.
        DataSubject.objects.select_for_update().only("pk").get(pk=subject.pk)
        state = (
            ConsentState.objects.select_for_update()
            .filter(subject=subject, purpose=purpose)
            .first()
        )
        try:
            with transaction.atomic():
                event = ConsentEvent.objects.create(
                    subject=subject,
                    purpose=purpose,
                    action=action,
                    policy_version=version,
                    channel=channel,
                    source_system=source_system,
                    occurred_at=_occurred_at(occurred_at),
                    recorded_by=actor.ref,
                    evidence=evidence,
                    idempotency_scope=actor.ref if idempotency_key else "",
                    idempotency_key=idempotency_key or None,
                )
        except IntegrityError:
            earlier = event_for_key(actor, idempotency_key)
            if earlier is None:
                raise
            return Recorded(earlier, created=False)
        previous = state.state if state else ConsentStatus.DEFAULT
        applied = state is None or event.occurred_at >= state.since
        new_state = _new_state(event, purpose) if applied else previous
        if applied:
            _save_state(state, event, new_state)
        audit_record(
            actor=actor,
            action=f"consent.{'granted' if action == 'grant' else 'withdrawn'}",
            obj=event,
            data={
                "subject": str(subject.public_id),
                "purpose": purpose.slug,
                "policy_version": version.version,
                "channel": channel,
                "state": new_state,
                "applied": applied,
            },
        )
        if applied and action == ConsentAction.WITHDRAW:
            _after_withdrawal(actor, event, purpose, previous)
        known = SubjectIdentifier.objects.filter(subject=subject).values_list(
            "blind_index", flat=True
        )
        invalidate_identifiers_on_commit([*known, *identifier_indexes])
    return Recorded(event, created=True)


def _save_state(state: ConsentState | None, event: ConsentEvent, new: str) -> None:
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


def _after_withdrawal(
    actor: Actor, event: ConsentEvent, purpose: Purpose, previous: str
) -> None:
    had_consent = previous in (ConsentStatus.GRANTED, ConsentStatus.NEEDS_RENEWAL) or (
        previous == ConsentStatus.DEFAULT and purpose.default_granted
    )
    if had_consent and purpose.legal_basis == LegalBasis.CONSENT:
        _open_erasure_assessment(actor, event, purpose)
    if purpose.propagate and previous != ConsentStatus.WITHDRAWN:
        propagations_plan(event=event, purpose=purpose)


def _open_erasure_assessment(
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


def event_for_key(actor: Actor, key: str | None) -> ConsentEvent | None:
    if not key:
        return None
    return (
        ConsentEvent.objects.select_related("subject", "purpose", "policy_version")
        .filter(idempotency_scope=actor.ref, idempotency_key=key)
        .first()
    )


# --- the front doors: portal, dashboard, GPC -----------------------------------


def consent_set(
    *,
    actor: Actor,
    subject: DataSubject,
    purpose: Purpose | str,
    granted: bool,
    channel: str,
    evidence: Mapping[str, Any] | None = None,
    policy_version: PolicyVersion | None = None,
    source_system: str = "",
) -> Recorded:
    """Grant or withdraw one purpose for a known subject, on the current wording.

    `evidence` is raw (`user_agent`, `ip`, `ui_element`, `gpc`,
    `ai_disclosure_version`); the IP is hashed here and never stored.
    """
    if isinstance(purpose, str):
        purpose = purpose_from_input(purpose, "purpose")
    return consent_record(
        actor=actor,
        subject=subject,
        purpose=purpose,
        action=ConsentAction.GRANT if granted else ConsentAction.WITHDRAW,
        channel=channel,
        policy_version=policy_version,
        source_system=source_system,
        evidence=evidence_clean(evidence),
    )


def consent_apply_gpc(
    *,
    actor: Actor,
    subject: DataSubject,
    evidence: Mapping[str, Any] | None = None,
    request_ip: str | None = None,
) -> list[Recorded]:
    """Honour a Global Privacy Control signal: opt out of every sale/sharing purpose.

    Purposes already withdrawn are left alone, so a browser sending the
    signal on every page view records one event per purpose, not thousands.
    """
    _require_record(actor, subject)
    clean = evidence_clean(evidence, request_ip=request_ip)
    clean["gpc"] = True
    recorded: list[Recorded] = []
    with transaction.atomic():
        withdrawn = set(
            ConsentState.objects.filter(
                subject=subject, state=ConsentStatus.WITHDRAWN
            ).values_list("purpose_id", flat=True)
        )
        for purpose in Purpose.objects.filter(is_sale_or_sharing=True):
            if purpose.pk in withdrawn:
                continue
            recorded.append(
                consent_record(
                    actor=actor,
                    subject=subject,
                    purpose=purpose,
                    action=ConsentAction.WITHDRAW,
                    channel=ConsentChannel.GPC,
                    evidence=clean,
                )
            )
    return recorded


# --- staff decisions -------------------------------------------------------------


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
