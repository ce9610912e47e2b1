"""Recording data subjects and linking their identifiers."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from privacydesk.history import history_bulk_create
from subjects.claims import Claim, claim_blind_index
from subjects.models import DataSubject, SubjectConversation, SubjectIdentifier


def subject_get_or_create(*, claims: list[Claim]) -> DataSubject:
    """Find the subject, or create one holding only the primary identifier.

    Further identifiers are linked only once the requester has proved who they
    are (`subject_link_identifiers`), so an unverified form cannot attach a
    stranger's phone number to someone else's record.
    """
    return subjects_get_or_create(claim_sets=[claims], link_all=[False])[0]


def subjects_get_or_create(
    *, claim_sets: list[list[Claim]], link_all: list[bool]
) -> list[DataSubject]:
    """For each list of claims, in order, its subject: the owner of the first
    claim already known (email first), or a new subject. What is linked is
    what `subject_get_or_create` links (a new subject's primary identifier),
    and, where `link_all` says so (a verified requester), every claim as
    `subject_link_identifiers` would. A list sharing an identifier with an
    earlier one in the same call gets the same subject.

    One query reads every known identifier; new subjects, identifiers and
    their history rows are one INSERT each."""
    index = {
        claim: claim_blind_index(claim) for claims in claim_sets for claim in claims
    }
    owners: dict[tuple[str, str, str], DataSubject] = {
        (row.kind, row.namespace, row.blind_index): row.subject
        for row in SubjectIdentifier.objects.filter(
            blind_index__in=set(index.values())
        ).select_related("subject")
    }
    subjects: list[DataSubject] = []
    created: list[DataSubject] = []
    identifiers: list[SubjectIdentifier] = []
    for claims, everything in zip(claim_sets, link_all, strict=True):
        keys = [(claim[0], claim[1], index[claim]) for claim in claims]
        subject = next((owners[key] for key in keys if key in owners), None)
        linked = claims if everything else []
        if subject is None:
            subject = DataSubject()
            created.append(subject)
            linked = claims if everything else claims[:1]
        for claim, key in zip(claims, keys, strict=True):
            if claim not in linked or key in owners:
                continue  # an identifier another subject holds is left to it
            owners[key] = subject
            kind, namespace, value = claim
            identifiers.append(
                SubjectIdentifier(
                    subject=subject,
                    kind=kind,
                    namespace=namespace,
                    value=value,
                    blind_index=key[2],
                )
            )
        subjects.append(subject)
    DataSubject.objects.bulk_create(created)
    SubjectIdentifier.objects.bulk_create(identifiers)
    history_bulk_create(SubjectIdentifier, identifiers)
    return subjects


def subject_link_identifiers(*, subject: DataSubject, claims: list[Claim]) -> int:
    """Attach identifiers not yet known; one owned by another subject is left."""
    linked = 0
    for claim in claims:
        index = claim_blind_index(claim)
        kind, namespace, value = claim
        if SubjectIdentifier.objects.filter(
            kind=kind, namespace=namespace, blind_index=index
        ).exists():
            continue
        SubjectIdentifier.objects.create(
            subject=subject,
            kind=kind,
            namespace=namespace,
            value=value,
            blind_index=index,
        )
        linked += 1
    return linked


def subject_conversations_record(
    *, subject_id: int, conversation_ids: list[str], source: str
) -> int:
    """Remember that these conversations involve the subject; returns how many
    were new. A conversation already recorded for the subject is left as is.

    One statement, whatever the engine (a conversation's first masking turn
    records it): the unique constraint skips what is known, and the rows
    the engine reports written are the new ones."""
    wanted = list(dict.fromkeys(conversation_ids))
    if not wanted:
        return 0
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = []
    for conversation_id in wanted:
        params += [subject_id, conversation_id, source, now]
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(_CONVERSATIONS_INSERT.format(rows=rows), params)
        written: int = cursor.rowcount
    return written


_CONVERSATIONS_INSERT = (
    f"INSERT INTO {SubjectConversation._meta.db_table} "
    "(subject_id, conversation_id, source, created_at) VALUES {rows} "
    "ON CONFLICT (subject_id, conversation_id) DO NOTHING"
)
