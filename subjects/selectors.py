"""Reads of data subjects: finding one by its identifiers, decrypting them."""

from __future__ import annotations

from collections.abc import Iterable

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
    emails: list[str] = []
    phones: list[str] = []
    customer_ids: dict[str, list[str]] = {}
    rows = SubjectIdentifier.objects.filter(subject_id__in=ids).order_by(
        "created_at", "pk"
    )
    for kind, namespace, value in rows.values_list("kind", "namespace", "value"):
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


def subject_conversation_ids(*, subject_id: int) -> list[str]:
    """The conversation ids recorded for a subject, oldest first."""
    return list(
        SubjectConversation.objects.filter(subject_id=subject_id)
        .order_by("created_at", "pk")
        .values_list("conversation_id", flat=True)
    )
