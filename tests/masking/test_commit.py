"""How a turn's vault write commits on PostgreSQL: a later turn's lone INSERT
does not wait for the disk; a conversation's first entries, written with
their audit event, do; and the session keeps its own setting.

A deferred constraint trigger runs when its transaction commits: it notes
the `synchronous_commit` in effect at that moment, the one PostgreSQL
applies to that commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from accounts.actors import actor_system
from connectors.demo.content import Customer
from masking.models import VaultEntry
from masking.services import text_mask
from tests.masking.conftest import PURPOSE, identity_of

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = VaultEntry._meta.db_table


@pytest.fixture
def commits_seen() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's commit setting")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE test_commit_seen (entity text, setting text);"
            "CREATE FUNCTION test_commit_seen() RETURNS trigger AS $$ BEGIN "
            "INSERT INTO test_commit_seen VALUES "
            "(NEW.entity, current_setting('synchronous_commit')); "
            "RETURN NULL; END $$ LANGUAGE plpgsql;"
            f"CREATE CONSTRAINT TRIGGER test_commit_seen AFTER INSERT ON {TABLE} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION test_commit_seen();"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TRIGGER test_commit_seen ON {TABLE};"
                "DROP FUNCTION test_commit_seen(); DROP TABLE test_commit_seen;"
            )


def session_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def seen() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT entity, setting FROM test_commit_seen")
        return dict(cursor.fetchall())


@pytest.mark.parametrize("prepared", [True, False])  # False: behind a pooler
def test_a_later_turns_new_values_commit_without_waiting_for_the_disk(
    maria: Customer, commits_seen: None, settings: Any, prepared: bool
) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    session = session_setting()
    if session == "off":
        pytest.skip("this server commits asynchronously anyway")

    def turn(text: str) -> None:
        text_mask(
            actor=actor_system("tests"),
            identity=identity_of(maria),
            purpose=PURPOSE,
            conversation_id="conv-commit",
            text=text,
            reversible=True,
        )

    turn("Write to first@example.org.")  # opens: entries and audit, one transaction
    turn("Or call +44 7700 900123.")  # a later turn: one new value, a lone INSERT
    turn("Still first@example.org.")  # nothing new: no write

    assert seen() == {"EMAIL": session, "PHONE": "off"}
    assert VaultEntry.objects.count() == 2
    assert session_setting() == session  # the session's own, untouched
