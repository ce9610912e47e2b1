"""Recording data subjects and linking their identifiers."""

from __future__ import annotations

from subjects.claims import Claim, claim_blind_index
from subjects.models import DataSubject, SubjectIdentifier
from subjects.selectors import subject_find


def subject_get_or_create(*, claims: list[Claim]) -> DataSubject:
    """Find the subject, or create one holding only the primary identifier.

    Further identifiers are linked only once the requester has proved who they
    are (`subject_link_identifiers`), so an unverified form cannot attach a
    stranger's phone number to someone else's record.
    """
    subject = subject_find(claims=claims)
    if subject is not None:
        return subject
    subject = DataSubject.objects.create()
    subject_link_identifiers(subject=subject, claims=claims[:1])
    return subject


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
