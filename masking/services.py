"""Masking a customer's message before it goes to a model (shredding the
vault when the customer is erased: masking.shredding).

`text_mask` answers an AI agent's turn in one round trip: the consent check
for the purpose, the text with PII replaced by tokens (`<EMAIL_1>`), and,
when the purpose is allowed, the tokens kept in the vault so the same value
gets the same token in every later call of the conversation (and, asked for
with `reversible`, its value encrypted so `/restore/` can put it back).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.redaction import KnownIdentifiers, detect, replace
from consent.selectors import PreparedCheck, consent_check
from masking.inputs import conversation_id_clean, name_clean, text_clean
from masking.models import VaultEntry
from masking.selectors import Entry, conversation_read, unseal
from masking.tokens import normalise, normalised_hash, short_entity, token_text
from privacydesk import crypto
from privacydesk.prepared import prepared_execute, prepared_rows
from subjects.claims import Claim, identity_claims
from subjects.models import DataSubject
from subjects.selectors import subject_identity_find
from subjects.services import subject_conversations_record, subject_get_or_create

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
    prepared: PreparedCheck | None = None,
) -> Masked:
    """Mask `text` for a model, with the consent answer for `purpose`.

    Not allowed: the text still comes back masked (tokens numbered within
    this call) and nothing is kept; the agent must not send it. Allowed: the
    vault keeps each value's keyed hash so tokens stay stable across the
    conversation, and with `reversible` the value itself, encrypted.
    `prepared`: the consent check the API's authentication fetched already.
    """
    actor.require(Perm.MASKING_USE)
    text = text_clean(text)
    conversation_id = conversation_id_clean(conversation_id)
    name = name_clean(name)
    answer = consent_check(
        actor=actor, identity=identity, purpose=purpose, prepared=prepared
    )
    claims = (
        prepared.claims
        if prepared is not None and prepared.identity is identity
        else identity_claims(identity)
    )
    allowed = bool(answer["allowed"])
    now = timezone.now()
    # The subject, its identifiers and (when something may be kept) its
    # entries in this conversation: one statement.
    read = conversation_read(
        claims=claims,
        conversation_id=conversation_id if allowed else None,
        stale_before=now - LAST_USED_STEP,
    )
    claimed = tuple(sorted({value for _, _, value in claims}))
    found = detect(text, known=_known(read.subject_id, claimed, read.sealed, name))
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
    # Each value as written, under its key (token entity, normalised value).
    values: list[tuple[Key, str]] = []
    for item in found:
        entity, value = short_entity(item.entity), text[item.start : item.end]
        values.append(((entity, normalise(entity, value)), value))
    if allowed:
        subject_id, public_id = read.subject_id, read.subject_public_id
        if subject_id is None:
            subject_id, public_id = _subject_for_vault(claims)
        numbers, masked.stored = _vault_tokens(
            actor=actor,
            subject=(subject_id, public_id),
            conversation_id=conversation_id,
            values=values,
            reversible=reversible,
            entries=read.entries if read.subject_id is not None else [],
        )
        masked.vault = VAULT_REVERSIBLE if reversible else VAULT_TOKENS
    else:
        numbers = _call_numbers(key for key, _ in values)
    tokens: list[str] = []
    seen: set[str] = set()
    for key, _ in values:
        entity = key[0]
        token = token_text(entity, numbers[key])
        tokens.append(token)
        masked.counts[entity] = masked.counts.get(entity, 0) + 1
        if token not in seen:
            seen.add(token)
            masked.tokens.append({"token": token, "entity": entity})
    next_token = iter(tokens).__next__  # `replace` asks in the same order
    masked.text = replace(text, found, lambda _: next_token())
    return masked


def masked_answer(masked: Masked) -> dict[str, Any]:
    """The answer as the API sends it (MaskSerializer documents the shape):
    built by hand, `dataclasses.asdict` deep-copies every value."""
    return {
        "text": masked.text,
        "allowed": masked.allowed,
        "reason": masked.reason,
        "consent": masked.consent,
        "conversation_id": masked.conversation_id,
        "vault": masked.vault,
        "tokens": masked.tokens,
        "counts": masked.counts,
        "stored": masked.stored,
    }


# Compiled known-identifier patterns, per subject and the very values they
# match: the identity's, the stored identifiers' as stored (encrypted: a
# changed identifier or a rotated key is a new key, never a stale pattern)
# and the name. Compiling one costs more than detecting in a message, and
# decrypting the stored ones a tenth of it. About 5 KB each.
KNOWN_CACHE_SIZE = 2048


@functools.lru_cache(maxsize=KNOWN_CACHE_SIZE)
def _known(
    subject_id: int | None,
    claimed: tuple[str, ...],
    sealed: tuple[str, ...],
    name: str | None,
) -> KnownIdentifiers:
    values = set(claimed) | set(unseal(sealed))
    if name:
        values.add(name)
    return KnownIdentifiers.parse(sorted(values))


# A subject's id, and its public id when known (see `_subject_audited`).
SubjectRef = tuple[int, uuid.UUID | None]


def _subject_for_vault(claims: list[Claim]) -> SubjectRef:
    """The subject a vault is kept for, created when unknown (a purpose
    allowed by default needs no consent record, so no subject may exist
    yet). Two first calls racing: the loser finds the winner's subject."""
    try:
        with transaction.atomic():
            subject = subject_get_or_create(claims=claims)
            return subject.pk, subject.public_id
    except IntegrityError:
        subject_id, _ = subject_identity_find(claims=claims)
        if subject_id is None:
            raise
        return subject_id, None


def _subject_audited(subject: SubjectRef) -> DataSubject:
    """The subject as the audit event names it (its public id): read only
    when the turn's one statement did not bring it."""
    subject_id, public_id = subject
    if public_id is None:
        return DataSubject.objects.get(pk=subject_id)
    return DataSubject(pk=subject_id, public_id=public_id)


Key = tuple[str, str]  # (token entity, normalised value)


def _call_numbers(keys: Iterable[Key]) -> dict[Key, int]:
    """Numbers within one call: the first value of an entity is 1."""
    numbers: dict[Key, int] = {}
    per_entity: dict[str, int] = {}
    for key in keys:
        entity = key[0]
        if key not in numbers:
            per_entity[entity] = numbers[key] = per_entity.get(entity, 0) + 1
    return numbers


def _vault_tokens(
    *,
    actor: Actor,
    subject: SubjectRef,
    conversation_id: str,
    values: list[tuple[Key, str]],
    reversible: bool,
    entries: list[Entry] | None = None,
) -> tuple[dict[Key, int], int]:
    """Each value's number in the conversation, kept in the vault; and how
    many entries were new. `entries`: the conversation's, read already by
    the caller (else read here). Two calls racing in one conversation: the
    unique constraints refuse the second's insert, which reads again and
    renumbers."""
    subject_id = subject[0]
    wanted: dict[Key, tuple[str, str]] = {}  # key -> (hash, value as written)
    for key, value in values:
        if key not in wanted:
            digest = normalised_hash(
                subject_id=subject_id,
                conversation_id=conversation_id,
                entity=key[0],
                normalised=key[1],
            )
            wanted[key] = (digest, value)
    for _ in range(_NUMBER_TRIES):
        now = timezone.now()
        if entries is None:
            entries = _entries_read(subject_id, conversation_id, now - LAST_USED_STEP)
        try:
            return _vault_tokens_once(
                actor=actor,
                subject=subject,
                conversation_id=conversation_id,
                wanted=wanted,
                reversible=reversible,
                entries=entries,
                now=now,
            )
        except IntegrityError:
            entries = None  # another call numbered first: read again
    raise RuntimeError("masking vault: numbering kept colliding")


_ENTRIES_SQL = (
    "SELECT id, entity, number, value_hash, value <> '', last_used_at < %s "
    f"FROM {VaultEntry._meta.db_table} WHERE subject_id = %s AND conversation_id = %s"
)


def _entries_read(
    subject_id: int, conversation_id: str, stale_before: datetime
) -> list[Entry]:
    """A conversation's entries, without their values (see `Entry`). Plain
    SQL: the ORM cost more to build this than the database to answer."""
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_SQL, [stale_before, subject_id, conversation_id])
        return list(cursor.fetchall())


_INSERT_SQL = (
    f"INSERT INTO {VaultEntry._meta.db_table} (public_id, subject_id, "
    "conversation_id, entity, number, value_hash, value, created_at, last_used_at) "
    "VALUES "
)
_INSERT_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _db_value(field_name: str, value: Any) -> Any:
    """`value` as the model's field writes it, whatever the database."""
    field = VaultEntry._meta.get_field(field_name)
    assert isinstance(field, models.Field)  # a column, not a relation
    return field.get_db_prep_value(value, connection)


# Makes the statement's own transaction commit without waiting for its WAL
# to reach the disk (PostgreSQL: "the behavior for any one transaction is
# determined by the setting in effect when it commits"); set locally, so the
# session and every other transaction keep `synchronous_commit` as set.
_ASYNC_COMMIT = " RETURNING set_config('synchronous_commit', 'off', true)"


def _entries_insert(rows: list[list[Any]], *, wait_for_disk: bool = True) -> None:
    """New entries in one INSERT, as the model's fields would write them
    (the value encrypted, or empty). Plain SQL: the ORM's bulk_create cost
    four times the statement. A row another call inserted first (the unique
    constraints) raises IntegrityError, and nothing of this call is kept.

    `wait_for_disk=False`, for a lone INSERT in autocommit only (a later
    turn's new values), commits it asynchronously on PostgreSQL: the call
    does not wait for the disk's flush, which cost a sync worker as long as
    the rest of the turn. What that risks, and only if PostgreSQL itself
    crashes in the fraction of a second before its WAL writer flushes: the
    turn's new entries are lost, so `/restore/` leaves those tokens as they
    are (`unknown`) and the conversation's next new value may get a lost
    token's number. Nothing is ever written that should not be: erasure,
    audit events and a conversation's first entries commit synchronously."""
    params: list[Any] = []
    for row in rows:
        params += row
    sql = _INSERT_SQL + ", ".join([_INSERT_ROW] * len(rows))
    # In a transaction it would apply to the whole of it: never there.
    if wait_for_disk or connection.vendor != "postgresql" or connection.in_atomic_block:
        prepared_execute(sql, params, name="masking_insert")
        return
    prepared_rows(sql + _ASYNC_COMMIT, params, name="masking_insert")


def _vault_tokens_once(
    *,
    actor: Actor,
    subject: SubjectRef,
    conversation_id: str,
    wanted: dict[Key, tuple[str, str]],
    reversible: bool,
    entries: list[Entry],
    now: datetime,
) -> tuple[dict[Key, int], int]:
    """From the conversation's entries (a conversation holds tens of values,
    so all of them: the hits and each entity's highest number, no value
    decrypted), each value's number; only if something is new, one write.
    A write of new entries alone is one statement, atomic by itself; with
    updates, or the conversation's first entries (audited, and recorded as
    one of the subject's conversations), one transaction."""
    subject_id = subject[0]
    by_hash = {digest: key for key, (digest, _) in wanted.items()}
    numbers: dict[Key, int] = {}
    highest: dict[str, int] = {}
    stale: list[int] = []
    unfilled: list[tuple[int, str]] = []
    for pk, entity, number, digest, kept, unused in entries:
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
    opened = not entries
    rows_new: list[list[Any]] = []
    # As the model's fields write them, whatever the database.
    when = _db_value("last_used_at", now)
    for key in new:
        entity = key[0]
        highest[entity] = numbers[key] = highest.get(entity, 0) + 1
        digest, value = wanted[key]
        stored = crypto.encrypt(value) if reversible and value else ""
        rows_new.append(
            [
                _db_value("public_id", uuid.uuid4()),
                subject_id,
                conversation_id,
                entity,
                numbers[key],
                digest,
                stored,
                when,
                when,
            ]
        )
    if rows_new and not (unfilled or stale or opened or connection.in_atomic_block):
        # one statement, atomic in autocommit; see its docstring
        _entries_insert(rows_new, wait_for_disk=False)
        return numbers, len(rows_new)
    with transaction.atomic():
        if rows_new:
            _entries_insert(rows_new)
        for pk, value in unfilled:
            VaultEntry.objects.filter(pk=pk).update(value=value, last_used_at=now)
        if stale:
            VaultEntry.objects.filter(pk__in=stale).update(last_used_at=now)
        if opened and rows_new:  # once per conversation, not per turn
            # The training exclusions list a subject's conversations.
            subject_conversations_record(
                subject_id=subject_id,
                conversation_ids=[conversation_id],
                source="masking",
            )
            audit_record(
                actor=actor,
                action="masking.vault_opened",
                obj=_subject_audited(subject),
                data={"entries": len(rows_new), "reversible": reversible},
            )
    return numbers, len(rows_new)
