"""Identifiers are encrypted at rest and found through the blind index only;
a subject's conversations are recorded once."""

from __future__ import annotations

import pytest
from django.db import connection

from privacydesk import crypto
from subjects.claims import identity_claims
from subjects.models import SubjectIdentifier
from subjects.selectors import subject_find
from subjects.services import (
    subject_conversations_record,
    subject_get_or_create,
    subject_link_identifiers,
)

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - test-only, fixed names
        return [row[0] for row in cursor.fetchall()]


def test_identifier_is_stored_encrypted_and_decrypts() -> None:
    subject = subject_get_or_create(
        claims=identity_claims({"email": "Ada@Example.com"})
    )

    stored = _raw("dsr_subjectidentifier", "value")
    assert stored
    assert "Ada@Example.com" not in stored[0]
    assert "example" not in stored[0]
    assert SubjectIdentifier.objects.get(subject=subject).value == "Ada@Example.com"
    assert all(
        "example" not in v for v in _raw("dsr_historicalsubjectidentifier", "value")
    )


def test_lookup_matches_normalised_spellings() -> None:
    created = subject_get_or_create(
        claims=identity_claims({"email": "ada@example.com"})
    )

    found = subject_find(claims=identity_claims({"email": "  ADA@example.COM "}))

    assert found == created


def test_phone_spellings_share_a_blind_index() -> None:
    assert crypto.blind_index("phone", "+44 7700 900123") == crypto.blind_index(
        "phone", "+44 (7700) 900-123"
    )
    assert crypto.blind_index("phone", "+44 7700 900123") != crypto.blind_index(
        "email", "+44 7700 900123"
    )


def test_blind_index_depends_on_the_key(settings) -> None:
    before = crypto.blind_index("email", "ada@example.com")
    settings.BLIND_INDEX_KEY = "another-key"
    assert crypto.blind_index("email", "ada@example.com") != before


def test_unverified_claims_do_not_attach_extra_identifiers() -> None:
    # given a known subject
    owner = subject_get_or_create(claims=identity_claims({"email": "ada@example.com"}))
    # when someone claims her e-mail together with their own phone number
    claims = identity_claims({"email": "ada@example.com", "phone": "+44 7700 900999"})
    subject = subject_get_or_create(claims=claims)
    # then the phone is not linked until the request is verified
    assert subject == owner
    assert owner.identifiers.count() == 1
    assert subject_link_identifiers(subject=owner, claims=claims) == 1
    assert owner.identifiers.count() == 2


def test_identifier_owned_by_another_subject_is_not_moved() -> None:
    first = subject_get_or_create(claims=identity_claims({"phone": "+44 7700 900123"}))
    second = subject_get_or_create(claims=identity_claims({"email": "b@example.com"}))

    linked = subject_link_identifiers(
        subject=second, claims=identity_claims({"phone": "+44 7700 900123"})
    )

    assert linked == 0
    assert first.identifiers.get().kind == "phone"


def test_customer_ids_are_namespaced_per_system() -> None:
    crm = subject_get_or_create(
        claims=identity_claims({"customer_ids": {"crm": "C-1"}})
    )
    shop = subject_get_or_create(
        claims=identity_claims({"customer_ids": {"shop": "C-1"}})
    )
    assert crm != shop


def test_rotated_key_still_decrypts_old_values(settings) -> None:
    from cryptography.fernet import Fernet

    token = crypto.encrypt("ada@example.com")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    assert crypto.decrypt(token) == "ada@example.com"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert crypto.decrypt(rotated) == "ada@example.com"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_conversations_are_recorded_once_and_new_ones_counted() -> None:
    # given Maria with one conversation recorded by the masking gateway
    maria = subject_get_or_create(claims=identity_claims({"email": "maria@x.test"}))
    first = subject_conversations_record(
        subject_id=maria.pk, conversation_ids=["chat-1"], source="masking"
    )

    # when a dataset names it again, with a new one (twice)
    again = subject_conversations_record(
        subject_id=maria.pk,
        conversation_ids=["chat-1", "chat-2", "chat-2"],
        source="dataset:faq",
    )

    # then only the new one counts, and the first source is kept
    assert (first, again) == (1, 1)
    assert dict(maria.conversations.values_list("conversation_id", "source")) == {
        "chat-1": "masking",
        "chat-2": "dataset:faq",
    }
    assert (
        subject_conversations_record(
            subject_id=maria.pk, conversation_ids=[], source="masking"
        )
        == 0
    )
