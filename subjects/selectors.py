"""Reads of data subjects: finding one by its identifiers, decrypting them."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db import connection

from privacydesk import crypto
from privacydesk.identity import Identity
from subjects.choices import IdentifierKind
from subjects.claims import Claim, claim_blind_index
from subjects.models import DataSubject, SubjectConversation, SubjectIdentifier


def subject_find(*, claims: list[Claim]) -> DataSubject | None:
    """The subject owning the strongest matching identifier (email first)."""
    for claim in claims:
        match = (
            SubjectIdentifier.objects.filter(
                kind=claim[0], namespace=claim[1], blind_index=claim_blind_index(claim)
            )
            .select_related("subject")
            .first()
        )
        if match:
            return match.subject
    return None


def subjects_identity(*, subject_ids: Iterable[int]) -> Identity:
    """The identifiers of these subjects, decrypted, as one Identity.

    The one place a subject's identifiers are decrypted for use: a request
    task and a consent withdrawal pass one subject, a purge's held scope every
    subject under a legal hold. In memory only; one query, values not rows.
    """
    ids = list(subject_ids)
    if not ids:
        return Identity()
    rows = SubjectIdentifier.objects.filter(subject_id__in=ids).order_by(
        "created_at", "pk"
    )
    return _identity(rows.values_list("kind", "namespace", "value"))


def _identity(rows: Iterable[tuple[str, str, str]]) -> Identity:
    emails: list[str] = []
    phones: list[str] = []
    customer_ids: dict[str, list[str]] = {}
    for kind, namespace, value in rows:
        if kind == IdentifierKind.EMAIL:
            emails.append(value)
        elif kind == IdentifierKind.PHONE:
            phones.append(value)
        else:
            customer_ids.setdefault(namespace, []).append(value)
    return Identity(
        emails=tuple(emails),
        phones=tuple(phones),
        customer_ids={key: tuple(values) for key, values in customer_ids.items()},
    )


def subject_identity_find(*, claims: list[Claim]) -> tuple[int | None, Identity]:
    """`subject_find` and `subjects_identity` in one query, for a hot path
    (the masking gateway, on every turn of a conversation): the id of the
    subject owning the strongest matching identifier, and its identifiers
    decrypted; (None, an empty Identity) for an unknown subject.

    Plain SQL, as the consent check's: building this query through the ORM
    cost several times what running it does."""
    keys = [(claim[0], claim[1], claim_blind_index(claim)) for claim in claims]
    if not keys:
        return None, Identity()
    with connection.cursor() as cursor:
        cursor.execute(_identity_find_sql(len(keys)), [v for key in keys for v in key])
        rows = cursor.fetchall()
    owners = {(kind, ns, index): subject for subject, kind, ns, index, _ in rows}
    subject_id = next((owners[key] for key in keys if key in owners), None)
    if subject_id is None:
        return None, Identity()
    return subject_id, _identity(
        (kind, ns, crypto.decrypt(value) if value else value)
        for subject, kind, ns, _, value in rows
        if subject == subject_id
    )


@functools.cache
def _identity_find_sql(claim_count: int) -> str:
    table = SubjectIdentifier._meta.db_table
    matches = " OR ".join(
        ["(kind = %s AND namespace = %s AND blind_index = %s)"] * claim_count
    )
    return (
        f"SELECT subject_id, kind, namespace, blind_index, value FROM {table} "
        f"WHERE subject_id IN (SELECT subject_id FROM {table} WHERE {matches}) "
        "ORDER BY created_at, id"
    )


def subject_conversation_ids(*, subject_id: int) -> list[str]:
    """The conversation ids recorded for a subject, oldest first."""
    return list(
        SubjectConversation.objects.filter(subject_id=subject_id)
        .order_by("created_at", "pk")
        .values_list("conversation_id", flat=True)
    )
