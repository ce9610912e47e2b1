"""Masking a customer's message before it goes to a model, and shredding the
vault when the customer is erased.

`text_mask` answers an AI agent's turn in one round trip: the consent check
for the purpose, the text with PII replaced by tokens (`<EMAIL_1>`), and,
when the purpose is allowed, the tokens kept in the vault so the same value
gets the same token in every later call of the conversation (and, asked for
with `reversible`, its value encrypted so `/restore/` can put it back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.redaction import Detected, detect, replace
from consent.selectors import consent_check
from dsr.models import Request
from dsr.selectors import holds_active
from masking.inputs import conversation_id_clean, name_clean, text_clean
from masking.models import VaultEntry
from masking.selectors import SHREDDED, subjects_of_request
from masking.tokens import normalise, short_entity, token_text, value_hash
from subjects.claims import Claim, identity_claims
from subjects.selectors import subject_identity_find
from subjects.services import subject_get_or_create

# A reused entry's last_used_at is rewritten at most this often (not per turn).
LAST_USED_STEP = timedelta(hours=1)
# Tries when another call of the same conversation took a number first.
_NUMBER_TRIES = 16

VAULT_NONE = "none"  # nothing kept: not allowed
VAULT_TOKENS = "tokens"  # tokens kept stable, values not kept
VAULT_REVERSIBLE = "reversible"  # values kept, encrypted, for /restore/


@dataclass
class Masked:
    """The answer to one masking call: never holds a detected value."""

    text: str
    allowed: bool
    reason: str | None
    consent: dict[str, Any]
    conversation_id: str
    vault: str
    tokens: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    stored: int = 0


def _reason(answer: dict[str, Any]) -> str | None:
    if answer["allowed"]:
        return None
    purpose, state = answer["purpose"], answer["state"]
    if state == "withdrawn":
        return f"the customer withdrew consent to {purpose}: do not send the text"
    if state == "needs_renewal":
        return f"consent to {purpose} needs renewal: do not send the text"
    return f"no consent to {purpose} on record: do not send the text"


def text_mask(
    *,
    actor: Actor,
    identity: Any,
    purpose: Any,
    conversation_id: Any,
    text: Any,
    name: Any = None,
    reversible: bool = False,
) -> Masked:
    """Mask `text` for a model, with the consent answer for `purpose`.

    Not allowed: the text still comes back masked (tokens numbered within
    this call) and nothing is kept; the agent must not send it. Allowed: the
    vault keeps each value's keyed hash so tokens stay stable across the
    conversation, and with `reversible` the value itself, encrypted.
    """
    actor.require(Perm.MASKING_USE)
    text = text_clean(text)
    conversation_id = conversation_id_clean(conversation_id)
    name = name_clean(name)
    answer = consent_check(actor=actor, identity=identity, purpose=purpose)
    claims = identity_claims(identity)
    allowed = bool(answer["allowed"])
    subject_id, held = subject_identity_find(claims=claims)
    known = {value for _, _, value in claims} | set(held.all_values())
    found = detect(text, known=tuple(sorted(known | ({name} if name else set()))))
    masked = Masked(
        text=text,
        allowed=allowed,
        reason=_reason(answer),
        consent=answer,
        conversation_id=conversation_id,
        vault=VAULT_NONE,
    )
    if not found:
        return masked
    spans = [(item, short_entity(item.entity)) for item in found]
    if allowed:
        if subject_id is None:
            subject_id = _subject_for_vault(claims)
        numbers, masked.stored = _vault_tokens(
            actor=actor,
            subject_id=subject_id,
            conversation_id=conversation_id,
            values=[(entity, text[d.start : d.end]) for d, entity in spans],
            reversible=reversible,
        )
        masked.vault = VAULT_REVERSIBLE if reversible else VAULT_TOKENS
    else:
        numbers = _call_numbers(
            [(entity, text[d.start : d.end]) for d, entity in spans]
        )
    tokens: dict[Detected, str] = {}
    for item, entity in spans:
        number = numbers[(entity, normalise(entity, text[item.start : item.end]))]
        tokens[item] = token_text(entity, number)
        masked.counts[entity] = masked.counts.get(entity, 0) + 1
    masked.text = replace(text, found, tokens.__getitem__)
    seen: set[str] = set()
    for item, entity in spans:
        if tokens[item] not in seen:
            seen.add(tokens[item])
            masked.tokens.append({"token": tokens[item], "entity": entity})
    return masked


def _subject_for_vault(claims: list[Claim]) -> int:
    """The subject a vault is kept for, created when unknown (a purpose
    allowed by default needs no consent record, so no subject may exist
    yet). Two first calls racing: the loser finds the winner's subject."""
    try:
        with transaction.atomic():
            return subject_get_or_create(claims=claims).pk
    except IntegrityError:
        subject_id, _ = subject_identity_find(claims=claims)
        if subject_id is None:
            raise
        return subject_id


Key = tuple[str, str]  # (token entity, normalised value)


def _call_numbers(values: Iterable[tuple[str, str]]) -> dict[Key, int]:
    """Numbers within one call: the first value of an entity is 1."""
    numbers: dict[Key, int] = {}
    per_entity: dict[str, int] = {}
    for entity, value in values:
        key = (entity, normalise(entity, value))
        if key not in numbers:
            per_entity[entity] = numbers[key] = per_entity.get(entity, 0) + 1
    return numbers


def _vault_tokens(
    *,
    actor: Actor,
    subject_id: int,
    conversation_id: str,
    values: list[tuple[str, str]],
    reversible: bool,
) -> tuple[dict[Key, int], int]:
    """Each value's number in the conversation, kept in the vault; and how
    many entries were new. Two calls racing in one conversation: the unique
    constraints refuse the second's insert, which reads again and renumbers."""
    wanted: dict[Key, tuple[str, str]] = {}  # key -> (hash, value as written)
    for entity, value in values:
        key = (entity, normalise(entity, value))
        if key not in wanted:
            digest = value_hash(
                subject_id=subject_id,
                conversation_id=conversation_id,
                entity=entity,
                value=value,
            )
            wanted[key] = (digest, value)
    for _ in range(_NUMBER_TRIES):
        try:
            return _vault_tokens_once(
                actor=actor,
                subject_id=subject_id,
                conversation_id=conversation_id,
                wanted=wanted,
                reversible=reversible,
            )
        except IntegrityError:
            continue  # another call numbered first: read again
    raise RuntimeError("masking vault: numbering kept colliding")


_ENTRIES_SQL = (
    "SELECT id, entity, number, value_hash, value <> '', last_used_at < %s "
    f"FROM {VaultEntry._meta.db_table} WHERE subject_id = %s AND conversation_id = %s"
)


def _entries_read(
    subject_id: int, conversation_id: str, stale_before: datetime
) -> list[tuple[Any, ...]]:
    """A conversation's entries, without their values: (id, entity, number,
    hash, whether a value is kept, whether last used before `stale_before`).
    Plain SQL: the ORM cost more to build this than the database to answer."""
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_SQL, [stale_before, subject_id, conversation_id])
        return list(cursor.fetchall())


def _vault_tokens_once(
    *,
    actor: Actor,
    subject_id: int,
    conversation_id: str,
    wanted: dict[Key, tuple[str, str]],
    reversible: bool,
) -> tuple[dict[Key, int], int]:
    """One read of the conversation's entries (a conversation holds tens of
    values, so all of them: the hits and each entity's highest number in one
    query, no value decrypted), then, only if something is new, one write."""
    now = timezone.now()
    by_hash = {digest: key for key, (digest, _) in wanted.items()}
    numbers: dict[Key, int] = {}
    highest: dict[str, int] = {}
    stale: list[int] = []
    unfilled: list[tuple[int, str]] = []
    for pk, entity, number, digest, kept, unused in _entries_read(
        subject_id, conversation_id, now - LAST_USED_STEP
    ):
        highest[entity] = max(highest.get(entity, 0), number)
        key = by_hash.get(digest)
        if key is None:
            continue
        numbers[key] = number
        if reversible and not kept:
            unfilled.append((pk, wanted[key][1]))
        elif unused:
            stale.append(pk)
    new = [key for key in wanted if key not in numbers]
    if not (new or unfilled or stale):
        return numbers, 0  # every value known: a read, no transaction
    opened = not highest
    rows_new = []
    for key in new:
        entity = key[0]
        highest[entity] = numbers[key] = highest.get(entity, 0) + 1
        digest, value = wanted[key]
        rows_new.append(
            VaultEntry(
                subject_id=subject_id,
                conversation_id=conversation_id,
                entity=entity,
                number=numbers[key],
                value_hash=digest,
                value=value if reversible else "",
                last_used_at=now,
            )
        )
    with transaction.atomic():
        VaultEntry.objects.bulk_create(rows_new)
        for pk, value in unfilled:
            VaultEntry.objects.filter(pk=pk).update(value=value, last_used_at=now)
        if stale:
            VaultEntry.objects.filter(pk__in=stale).update(last_used_at=now)
        if opened and rows_new:  # one audit event per conversation, not per turn
            audit_record(
                actor=actor,
                action="masking.vault_opened",
                obj=rows_new[0].subject,
                data={"entries": len(rows_new), "reversible": reversible},
            )
    return numbers, len(rows_new)


# --- crypto-shredding ---------------------------------------------------------


@transaction.atomic
def vault_shred_for_request(*, actor: Actor, request: Request) -> int:
    """An erasure has started: delete every vault entry of its subject (and of
    any subject holding one of the identifiers the request claims), so tokens
    already in AI logs and vector stores point at nothing. A subject under a
    legal hold keeps its entries. One audit event on the request carries the
    count (the evidence pack reads it); returns the count."""
    actor.require(Perm.MASKING_SHRED)
    subject_ids = subjects_of_request(request=request)
    held = set(
        holds_active()
        .filter(subject_id__in=subject_ids)
        .values_list("subject_id", flat=True)
    )
    deleted, _ = VaultEntry.objects.filter(subject_id__in=subject_ids - held).delete()
    audit_record(
        actor=actor,
        action=SHREDDED,
        obj=request,
        data={"entries": deleted, "held": bool(held & subject_ids)},
    )
    return deleted


PURGE_BATCH = 1_000


def vault_purge_idle(*, actor: Actor, idle_days: int) -> int:
    """Forget vault entries unused for `idle_days` (the conversation is over;
    its tokens in old AI logs then point at nothing). Bounded batches by key,
    each in a short transaction with its audit event; safe to run twice."""
    actor.require(Perm.MASKING_SHRED)
    cutoff = timezone.now() - timedelta(days=idle_days)
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                VaultEntry.objects.filter(last_used_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not batch:
                return deleted
            count, _ = VaultEntry.objects.filter(
                pk__in=batch, last_used_at__lt=cutoff
            ).delete()
            audit_record(
                actor=actor,
                action="masking.vault_purged",
                obj=None,
                data={"entries": count, "idle_days": idle_days},
            )
        deleted += count
