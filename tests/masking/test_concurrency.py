"""Calls of one conversation racing on PostgreSQL (real threads, each on its
own connection): no number is handed to two values, no value gets two."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
from django.db import connection, connections

from accounts.actors import actor_system
from connectors.demo.content import Customer
from masking.models import VaultEntry
from masking.services import text_mask
from tests.masking.conftest import PURPOSE, identity_of

THREADS = 6
ROUNDS = 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("opened", [False, True])
def test_racing_calls_never_share_a_number_between_two_values(
    maria: Customer, opened: bool
) -> None:
    """Racing on a conversation's first entries (one transaction each, with
    the audit event) and on later ones (a lone INSERT, no transaction)."""
    if connection.vendor != "postgresql":
        pytest.skip("the race is PostgreSQL's to settle")
    actor = actor_system("tests")
    failures: list[BaseException] = []
    answers: dict[str, list[str]] = defaultdict(list)
    first = 1 if opened else 0  # entries before the race

    def call(conversation: str, number: int, barrier: threading.Barrier) -> None:
        # each thread: one value all of them send, and one of its own
        text = f"shared@example.org and own{number}@example.org"
        try:
            barrier.wait()
            masked = text_mask(
                actor=actor,
                identity=identity_of(maria),
                purpose=PURPOSE,
                conversation_id=conversation,
                text=text,
                reversible=True,
            )
            answers[conversation].append(masked.text)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    for round_number in range(ROUNDS):
        conversation = f"race-{round_number}"
        if opened:
            text_mask(
                actor=actor,
                identity=identity_of(maria),
                purpose=PURPOSE,
                conversation_id=conversation,
                text="first@example.org",
                reversible=True,
            )
        barrier = threading.Barrier(THREADS)
        threads = [
            threading.Thread(target=call, args=(conversation, n, barrier))
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert failures == []
    for round_number in range(ROUNDS):
        conversation = f"race-{round_number}"
        entries = list(
            VaultEntry.objects.filter(conversation_id=conversation).values_list(
                "number", "value"
            )
        )
        # one entry per value, numbered from 1 without a gap or a repeat
        assert sorted(number for number, _ in entries) == list(
            range(1, THREADS + 2 + first)
        )
        assert len({value for _, value in entries}) == THREADS + 1 + first
        by_value = {value: number for number, value in entries}
        shared = f"<EMAIL_{by_value['shared@example.org']}>"
        texts = answers[conversation]
        assert len(texts) == THREADS
        assert all(text.startswith(shared + " and ") for text in texts)
        # every thread's own value got the number the vault holds for it
        own = {text.split(" and ")[1] for text in texts}
        assert own == {
            f"<EMAIL_{number}>"
            for value, number in by_value.items()
            if value not in ("shared@example.org", "first@example.org")
        }
