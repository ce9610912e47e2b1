"""Consent events arriving through the API: one, or a batch, all or nothing.

Each item is checked and applied by `consent_record`; a batch runs in one
transaction, so one bad item records nothing, and its error names the item
(`events[3].purpose`). Idempotency keys make a retried call a replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, OperationalError, transaction

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.choices import ConsentChannel
from consent.services.events import (
    Recorded,
    consent_apply_gpc,
    consent_record,
    event_for_key,
)
from consent.services.inputs import (
    claim_indexes,
    evidence_clean,
    purpose_from_input,
    version_from_input,
)
from privacydesk.errors import IllegalTransition, ValidationFailed
from subjects.claims import identity_claims
from subjects.selectors import subject_find
from subjects.services import subject_get_or_create

MAX_BATCH = 500


def _record_item(
    actor: Actor, item: Mapping[str, Any], request_ip: str | None
) -> Recorded:
    actor.require(Perm.CONSENT_RECORD)
    claims = identity_claims(item.get("identity"))
    purpose = purpose_from_input(item.get("purpose"), "purpose")
    action = item.get("action")
    version = version_from_input(purpose, item.get("policy_version"), "policy_version")
    evidence = evidence_clean(item.get("evidence"), request_ip=request_ip)
    key = item.get("idempotency_key") or None
    earlier = event_for_key(actor, key)
    if earlier is not None:
        same_subject = subject_find(claims=claims)
        if (
            earlier.purpose_id != purpose.pk
            or earlier.action != action
            or same_subject is None
            or same_subject.pk != earlier.subject_id
        ):
            raise IllegalTransition(
                "this idempotency key was used for a different event",
                field="idempotency_key",
            )
        return Recorded(earlier, created=False)
    subject = subject_get_or_create(claims=claims)
    return consent_record(
        actor=actor,
        subject=subject,
        purpose=purpose,
        action=str(action),
        channel=item.get("channel") or ConsentChannel.API,
        policy_version=version,
        source_system=item.get("source_system") or "",
        occurred_at=item.get("occurred_at"),
        evidence=evidence,
        idempotency_key=key,
        identifier_indexes=claim_indexes(claims),
    )


def consent_events_record(
    *,
    actor: Actor,
    items: list[Mapping[str, Any]],
    batch: bool,
    request_ip: str | None = None,
) -> list[Recorded]:
    """Record API events: all of them or, if any is invalid, none.

    In a batch, an error names its item: `events[3].purpose`.
    """
    actor.require(Perm.CONSENT_RECORD)
    if batch and not 1 <= len(items) <= MAX_BATCH:
        raise ValidationFailed(f"send 1 to {MAX_BATCH} events", field="events")
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return [
                    _record_prefixed(actor, item, request_ip, index if batch else None)
                    for index, item in enumerate(items)
                ]
        except (IntegrityError, OperationalError):
            # Two calls created the same subject, or deadlocked on two
            # subjects: the retry finds what the other call committed.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record_prefixed(
    actor: Actor, item: Mapping[str, Any], request_ip: str | None, index: int | None
) -> Recorded:
    if index is None:
        return _record_item(actor, item, request_ip)
    try:
        return _record_item(actor, item, request_ip)
    except ValidationFailed as error:
        path = f"events[{index}]" + (f".{error.field}" if error.field else "")
        raise type(error)(error.message, field=path) from error


def consent_gpc_record(
    *,
    actor: Actor,
    identity: Any,
    evidence: Mapping[str, Any] | None = None,
    request_ip: str | None = None,
) -> list[Recorded]:
    """The API's GPC endpoint: the subject named by identity, known or not."""
    actor.require(Perm.CONSENT_RECORD)
    claims = identity_claims(identity)
    evidence_clean(evidence, request_ip=request_ip)  # refuse bad input before writing
    with transaction.atomic():
        subject = subject_get_or_create(claims=claims)
        return consent_apply_gpc(
            actor=actor, subject=subject, evidence=evidence, request_ip=request_ip
        )
