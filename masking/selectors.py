"""Reads of the masking vault: putting values back into a model's reply,
whose vault an erasure shreds, and what it shredded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.models import AuditEvent
from dsr.models import Request
from masking.inputs import conversation_id_clean, text_clean
from masking.models import VaultEntry
from masking.tokens import find_tokens
from privacydesk.errors import ValidationFailed
from subjects.claims import claim_blind_index, identity_claims
from subjects.models import SubjectIdentifier
from subjects.selectors import subject_find

SHREDDED = "masking.vault_shredded"


@dataclass(frozen=True)
class Restored:
    """A reply with the tokens the vault knows replaced by their values."""

    text: str
    restored: int  # tokens replaced
    unknown: int  # tokens left as they are (never stored, or shredded)


def text_restore(
    *, actor: Actor, identity: Any, conversation_id: Any, text: Any
) -> Restored:
    """Put the values of this subject's conversation back into `text`, for
    display to that same customer. Only this subject's entries of this
    conversation are read; a token of another conversation, of another
    subject, kept without its value or shredded stays as it is."""
    actor.require(Perm.MASKING_USE)
    text = text_clean(text)
    conversation_id = conversation_id_clean(conversation_id)
    claims = identity_claims(identity)
    spans = find_tokens(text)
    if not spans:
        return Restored(text, 0, 0)
    subject = subject_find(claims=claims)
    values: dict[tuple[str, int], str] = {}
    if subject is not None:
        rows = (
            VaultEntry.objects.filter(
                subject=subject,
                conversation_id=conversation_id,
                entity__in={s.entity for s in spans},
                number__in={s.number for s in spans},
            )
            .exclude(value="")
            .values_list("entity", "number", "value")
        )
        values = {(entity, number): value for entity, number, value in rows}
    parts: list[str] = []
    position = restored = 0
    for span in spans:
        value = values.get((span.entity, span.number))
        if value is None:
            continue
        parts += [text[position : span.start], value]
        position = span.end
        restored += 1
    parts.append(text[position:])
    return Restored("".join(parts), restored, len(spans) - restored)


def subjects_of_request(*, request: Request) -> set[int]:
    """The request's subject, and any subject holding an identifier the
    request claims (a vault opened under an e-mail before the request linked
    it elsewhere)."""
    ids = {request.subject_id}
    identity = request.identity if isinstance(request.identity, dict) else {}
    try:
        claims = identity_claims(identity)
    except ValidationFailed:  # an identity kept partly: the subject alone
        return ids
    matches = Q()
    for claim in claims:
        kind, namespace, _ = claim
        matches |= Q(
            kind=kind, namespace=namespace, blind_index=claim_blind_index(claim)
        )
    ids |= set(
        SubjectIdentifier.objects.filter(matches).values_list("subject_id", flat=True)
    )
    return ids


def vault_shredded_count(*, request: Request) -> int | None:
    """How many vault entries the request's erasure deleted, from the audit
    chain; None when no shredding was recorded for it."""
    events = AuditEvent.objects.filter(
        action=SHREDDED, object_type="dsr.request", object_id=str(request.public_id)
    )
    if not events.exists():
        return None
    return sum(
        int(data.get("entries", 0)) for data in events.values_list("data", flat=True)
    )
