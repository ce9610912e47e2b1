"""One selector decrypts subjects' identifiers, for every caller."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import base
from privacydesk.identity import Identity
from subjects.claims import identity_claims
from subjects.selectors import subject_identity_find, subjects_identity
from subjects.services import subject_get_or_create, subject_link_identifiers

pytestmark = pytest.mark.django_db


def _subject(identity: dict[str, object]) -> int:
    claims = identity_claims(identity)
    subject = subject_get_or_create(claims=claims)
    subject_link_identifiers(subject=subject, claims=claims)
    return subject.pk


def test_one_subjects_identifiers_are_decrypted_by_kind() -> None:
    # given a subject with an e-mail, a phone and two customer ids
    subject_id = _subject(
        {
            "email": "ada@example.com",
            "phone": "+44 7700 900123",
            "customer_ids": {"crm": "C-1", "shop": "S-9"},
        }
    )
    _subject({"email": "someone.else@example.com"})
    # when
    identity = subjects_identity(subject_ids=[subject_id])
    # then only hers, in plaintext, by kind and system
    assert identity == Identity(
        emails=("ada@example.com",),
        phones=("+44 7700 900123",),
        customer_ids={"crm": ("C-1",), "shop": ("S-9",)},
    )


def test_several_subjects_make_one_identity() -> None:
    # given two subjects (a purge's held scope holds them both)
    first = _subject({"email": "a@example.com", "customer_ids": {"crm": "C-1"}})
    second = _subject({"email": "b@example.com", "customer_ids": {"crm": "C-2"}})
    # when
    identity = subjects_identity(subject_ids=[first, second])
    # then
    assert sorted(identity.emails) == ["a@example.com", "b@example.com"]
    assert sorted(identity.values("customer_id", "crm")) == ["C-1", "C-2"]
    assert identity.phones == ()


def test_no_subject_or_an_unknown_one_is_an_empty_identity(
    django_assert_num_queries,
) -> None:
    with django_assert_num_queries(0):
        assert subjects_identity(subject_ids=[]).is_empty()
    assert subjects_identity(subject_ids=[987654]).is_empty()


def test_the_connector_contract_uses_the_foundation_identity() -> None:
    # subjects and connectors are siblings: the type they share lives below both
    assert base.Identity is Identity


def test_finding_a_subject_with_its_identity_is_one_query(
    django_assert_num_queries: Any,
) -> None:
    # given two subjects; the claims name one by e-mail, the other by phone
    ada = _subject({"email": "ada@example.com", "customer_ids": {"crm": "C-1"}})
    _subject({"email": "bob@example.com", "phone": "+44 7700 900456"})
    claims = identity_claims({"email": "ADA@example.com", "phone": "+44 7700 900456"})
    # when
    with django_assert_num_queries(1):
        found = subject_identity_find(claims=claims)
    # then the e-mail's owner wins, as in subject_find, with only her identifiers
    assert found == (
        ada,
        Identity(emails=("ada@example.com",), customer_ids={"crm": ("C-1",)}),
    )
    unknown = identity_claims({"email": "nobody@example.com"})
    assert subject_identity_find(claims=unknown) == (None, Identity())
