"""Recording consent: every grant or withdrawal is a new, unchangeable event.

One service applies an event (`consent_record`); the API, the portal, the
dashboard and the GPC signal all go through it, so every path writes the same
evidence, updates the derived state under the subject's row lock, writes an
audit event, retires cached answers after commit, and on withdrawal opens an
erasure assessment (GDPR 17(1)(b)) and propagates to linked connectors.
Input rules live in `inputs`, the derived state in `states`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from consent.cache import invalidate_identifiers_on_commit
from consent.choices import ConsentAction, ConsentChannel, ConsentStatus
from consent.models import ConsentEvent, ConsentState, PolicyVersion, Purpose
from consent.services.inputs import (
    evidence_clean,
    occurred_at_clean,
    purpose_from_input,
    version_from_input,
)
from consent.services.states import (
    consent_state_derive,
    consent_state_save,
    consent_withdrawal_follow_up,
)
from privacydesk.errors import NotPermitted, ValidationFailed
from privacydesk.wiring import wired_tasks_send
from subjects.models import DataSubject, SubjectIdentifier


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


# --- the one place an event is applied -----------------------------------------


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
                    occurred_at=occurred_at_clean(occurred_at),
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
        new_state = consent_state_derive(event, purpose) if applied else previous
        if applied:
            consent_state_save(state, event, new_state)
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
            consent_withdrawal_follow_up(actor, event, purpose, previous)
        if applied:
            # What the composition root wired to a changed choice, scoped by
            # purpose slug (settings.CONSENT_CHANGED_TASKS: the training
            # exclusions follow the model-training purpose).
            subject_id, slug = subject.pk, purpose.slug
            transaction.on_commit(
                lambda: wired_tasks_send(
                    "CONSENT_CHANGED_TASKS", args=[subject_id], channel=slug
                )
            )
        known = SubjectIdentifier.objects.filter(subject=subject).values_list(
            "blind_index", flat=True
        )
        invalidate_identifiers_on_commit([*known, *identifier_indexes])
    return Recorded(event, created=True)


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
    clean = evidence_clean(evidence, request_ip=request_ip)
    clean["gpc"] = True
    return consent_withdraw_all(
        actor=actor,
        subject=subject,
        purposes=Purpose.objects.filter(is_sale_or_sharing=True),
        channel=ConsentChannel.GPC,
        evidence=clean,
    )


def consent_withdraw_all(
    *,
    actor: Actor,
    subject: DataSubject,
    purposes: Iterable[Purpose],
    channel: str,
    evidence: dict[str, Any],
) -> list[Recorded]:
    """Withdraw each of `purposes` the subject has not withdrawn already, in
    one transaction: an opt-out (a GPC signal, the "Do Not Sell or Share"
    and "Limit the Use" links). `evidence` is clean (`evidence_clean`)."""
    _require_record(actor, subject)
    recorded: list[Recorded] = []
    with transaction.atomic():
        withdrawn = set(
            ConsentState.objects.filter(
                subject=subject, state=ConsentStatus.WITHDRAWN
            ).values_list("purpose_id", flat=True)
        )
        for purpose in purposes:
            if purpose.pk in withdrawn:
                continue
            recorded.append(
                consent_record(
                    actor=actor,
                    subject=subject,
                    purpose=purpose,
                    action=ConsentAction.WITHDRAW,
                    channel=channel,
                    evidence=evidence,
                )
            )
    return recorded
