"""Reads of the masking vault: putting values back into a model's reply,
whose vault an erasure shreds, and what it shredded."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.models import AuditEvent
from dsr.models import Request
from masking.inputs import conversation_id_clean, text_clean
from masking.models import VaultEntry
from masking.tokens import find_tokens
from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from privacydesk.prepared import prepared_rows
from subjects.claims import Claim, claim_blind_index, identity_claims
from subjects.models import DataSubject, SubjectIdentifier
from subjects.selectors import subject_find

SHREDDED = "masking.vault_shredded"


# (id, entity, number, hash, whether a value is kept, whether last used
# before the step): a conversation's entries as the vault's writer reads them.
Entry = tuple[int, str, int, str, bool, bool]


@dataclass(frozen=True)
class Conversation:
    """What one masking call reads before it writes: the subject owning the
    strongest matching identifier, its identifiers' values (as stored,
    encrypted: `values` decrypts them), and its entries in the conversation
    (no value decrypted), with its public id (a first turn audits the
    vault's opening on the subject)."""

    subject_id: int | None
    sealed: tuple[str, ...]
    entries: list[Entry] | None  # None: not read (nothing will be kept)
    subject_public_id: uuid.UUID | None = None  # read with the entries

    @property
    def values(self) -> tuple[str, ...]:
        """The identifiers' values, decrypted."""
        return unseal(self.sealed)


def unseal(sealed: tuple[str, ...]) -> tuple[str, ...]:
    """Identifier values as `Conversation.sealed` holds them, decrypted."""
    return tuple(crypto.decrypt(value) if value else value for value in sealed)


def conversation_read(
    *, claims: list[Claim], conversation_id: str | None, stale_before: datetime
) -> Conversation:
    """One statement for a masking turn: the subject (as `subject_find`
    chooses it), its identifiers, and, given a conversation id, that
    subject's entries in it and its public id. Entries of another subject
    matching a weaker claim are read too (rarely any) and dropped here,
    never used."""
    keys = [(claim[0], claim[1], claim_blind_index(claim)) for claim in claims]
    if not keys:
        return Conversation(None, (), None if conversation_id is None else [])
    params: list[Any] = [v for key in keys for v in key]
    if conversation_id is not None:
        params += [stale_before, conversation_id]
    sql = _conversation_sql(len(keys), conversation_id is not None)
    # Prepared once per connection: planning this cost PostgreSQL twice
    # running it. Flags are booleans there, 0 or 1 on SQLite.
    rows = prepared_rows(sql, params, name="masking_turn")
    owners = {(r[3], r[4], r[5]): r[1] for r in rows if r[0] == 0}
    subject_id = next((owners[key] for key in keys if key in owners), None)
    entries: list[Entry] | None = None if conversation_id is None else []
    sealed: list[str] = []
    public_id = None
    for part, owner, pk, first, second, third, value, kept, stale in rows:
        if owner != subject_id:
            continue
        if part == 0:
            sealed.append(value)
        elif part == 2:  # as text: dashed, or bare hex on SQLite
            public_id = uuid.UUID(first)
        elif entries is not None:  # the number was cast to text for the UNION
            entries.append((pk, first, int(second), third, bool(kept), bool(stale)))
    return Conversation(subject_id, tuple(sealed), entries, public_id)


@functools.cache
def _conversation_sql(claim_count: int, with_entries: bool) -> str:
    identifiers = SubjectIdentifier._meta.db_table
    matches = " OR ".join(
        ["(kind = %s AND namespace = %s AND blind_index = %s)"] * claim_count
    )
    sql = (
        f"WITH owners AS (SELECT subject_id FROM {identifiers} WHERE {matches}) "
        "SELECT 0, subject_id, id, kind, namespace, blind_index, value, "
        f"NULL, NULL FROM {identifiers} WHERE subject_id IN "
        "(SELECT subject_id FROM owners)"
    )
    if with_entries:
        # CAST, not `::`: Django's SQLite cursor (the embedded mode) reads
        # `%s` only, and both engines know CAST.
        sql += (
            " UNION ALL SELECT 1, subject_id, id, entity, "
            "CAST(number AS TEXT), value_hash, NULL, value <> '', last_used_at < %s "
            f"FROM {VaultEntry._meta.db_table} WHERE subject_id IN "
            "(SELECT subject_id FROM owners) AND conversation_id = %s"
            " UNION ALL SELECT 2, id, NULL, CAST(public_id AS TEXT), NULL, NULL, "
            f"NULL, NULL, NULL FROM {DataSubject._meta.db_table} WHERE id IN "
            "(SELECT subject_id FROM owners)"
        )
    return sql


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
