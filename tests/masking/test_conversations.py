"""What the gateway leaves for the rest of the system: the conversations it
saw for a customer (training exclusions list them), and a consent change
honoured at once although the answer is cached and fetched with the caller."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from connectors.demo.content import Customer
from dsr.models import Request
from masking.demo import sample_message
from masking.models import VaultEntry
from subjects.claims import identity_claims
from subjects.models import SubjectConversation
from subjects.selectors import subject_find
from subjects.services import subject_link_identifiers
from tests.masking.conftest import consenting, identity_of, redact
from training.choices import KeyKind
from training.models import TrainingExclusion
from training.selectors import exclusion_keys

pytestmark = pytest.mark.django_db


def test_each_conversation_is_recorded_once_and_an_erasure_excludes_it(
    api: APIClient,
    maria: Customer,
    refuser: Customer,
    rng: random.Random,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given Maria's two conversations, one over three turns, and a turn of
    # hers without PII; and a customer who refused, whose turns keep nothing
    for _ in range(3):
        assert redact(api, maria, sample_message(rng, maria)).status_code == 200
    redact(api, maria, f"Also: {maria.email}", conversation_id="conv-2")
    redact(api, maria, "Thanks, that is all.", conversation_id="conv-3")
    redact(api, refuser, f"I am {refuser.email}", conversation_id="conv-9")

    # then each conversation the vault keeps is recorded once, for her only
    subject = subject_find(claims=identity_claims(identity_of(maria)))
    assert subject is not None
    rows = SubjectConversation.objects.values_list(
        "subject_id", "conversation_id", "source"
    )
    assert sorted(rows) == [
        (subject.pk, "conv-1", "masking"),
        (subject.pk, "conv-2", "masking"),
    ]

    # when she asks for erasure, verified
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(
            kind="erasure", identity={"email": maria.email}, verified=True
        )

    # then the exclusion lists both conversations
    [exclusion] = TrainingExclusion.objects.filter(subject=request.subject)
    assert request.subject_id == subject.pk
    assert exclusion_keys(exclusion, KeyKind.CONVERSATION_ID) == ["conv-1", "conv-2"]


def test_a_withdrawal_is_honoured_on_the_next_turn_despite_the_cached_answer(
    api: APIClient, maria: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    # given two allowed turns: the second's answer came from the cache
    first = redact(api, maria, f"Mail {maria.email}", reversible=True).json()
    second = redact(api, maria, f"Or {maria.phone}", reversible=True).json()
    assert (first["allowed"], second["allowed"]) == (True, True)
    assert VaultEntry.objects.count() == 2

    # when she withdraws consent to AI processing
    consenting(maria, False, django_capture_on_commit_callbacks)

    # then the next turn is refused and keeps nothing
    third = redact(api, maria, "Call 020 7946 0999", reversible=True).json()
    assert (third["allowed"], third["consent"]["state"]) == (False, "withdrawn")
    assert (third["vault"], third["stored"]) == ("none", 0)
    assert third["text"] == "Call <PHONE_1>"
    assert VaultEntry.objects.count() == 2


def test_known_identifiers_are_never_taken_from_another_customer(
    api: APIClient,
    maria: Customer,
    refuser: Customer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given both allowed, each masking the other's name in turn (names are
    # masked only as a customer's own identifiers: no pattern finds them)
    consenting(refuser, True, django_capture_on_commit_callbacks)
    text = f"{maria.name} and {refuser.name} wrote."
    mine = redact(api, maria, text, name=maria.name).json()
    theirs = redact(api, refuser, text, name=refuser.name).json()
    again = redact(api, maria, text, name=maria.name).json()

    # then each call masks its own customer's name only
    assert mine["text"] == f"<PERSON_1> and {refuser.name} wrote."
    assert theirs["text"] == f"{maria.name} and <PERSON_1> wrote."
    assert again["text"] == mine["text"]


def _prepared_runs() -> int:
    """Runs of the masking gateway's statements prepared on this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans + custom_plans), 0) "
            "FROM pg_prepared_statements WHERE name LIKE 'masking_%%'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("prepared", [True, False])
def test_turns_run_prepared_statements_unless_switched_off(
    api: APIClient, maria: Customer, settings: Any, prepared: bool
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL")
    # a pooler in transaction mode cannot keep prepared statements
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    before = _prepared_runs()

    first = redact(api, maria, f"Mail {maria.email}", reversible=True).json()
    second = redact(api, maria, "Or 020 7946 0999?", reversible=True).json()
    third = redact(api, maria, f"{maria.email} it is", reversible=True).json()

    # the same answers either way; prepared: each turn's read, and the
    # insert of the turns that add values, ran as prepared statements
    assert [first["text"], second["text"], third["text"]] == [
        "Mail <EMAIL_1>",
        "Or <PHONE_1>?",
        "<EMAIL_1> it is",
    ]
    assert [first["stored"], second["stored"], third["stored"]] == [1, 1, 0]
    assert _prepared_runs() - before == (5 if prepared else 0)


def test_identifiers_stored_for_her_are_her_own_and_a_new_one_counts_at_once(
    api: APIClient, maria: Customer
) -> None:
    # given a customer id stored on her record, not in the calls' identity
    subject = subject_find(claims=identity_claims(identity_of(maria)))
    assert subject is not None
    subject_link_identifiers(
        subject=subject, claims=identity_claims({"customer_ids": {"shop": "K-77001"}})
    )
    text = "My shop ids are K-77001 and K-88002."
    only_email = {"identity": {"email": maria.email}}

    # when she writes both ids
    first = redact(api, maria, text, **only_email).json()

    # then the stored one is masked as hers (no pattern finds such ids)
    assert first["text"] == "My shop ids are <CUSTOMER_ID_1> and K-88002."

    # and once the second is stored too, the next turn masks it as well
    subject_link_identifiers(
        subject=subject, claims=identity_claims({"customer_ids": {"shop": "K-88002"}})
    )
    second = redact(api, maria, text, **only_email).json()
    assert second["text"] == "My shop ids are <CUSTOMER_ID_1> and <CUSTOMER_ID_2>."
