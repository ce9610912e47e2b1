"""rotate_field_keys: every encrypted value, history included, moves to the
newest key; afterwards the old key can be dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from accounts.actors import actor_system
from dsr.models import Request, RequestNote
from dsr.services.clock import request_extend
from dsr.services.requests import request_add_note
from privacydesk import crypto
from privacydesk.management.commands.rotate_field_keys import encrypted_columns
from subjects.models import SubjectIdentifier

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_fernet_cache() -> Iterator[None]:
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def _rotate(**options: object) -> str:
    out = StringIO()
    call_command("rotate_field_keys", stdout=out, **options)
    return out.getvalue()


def _stored_tokens() -> list[str]:
    """Every non-empty encrypted value as it sits in the database."""
    tokens = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, field in encrypted_columns():
            cursor.execute(
                f"SELECT {quote(field.column)} FROM {quote(model._meta.db_table)}"
            )
            tokens += [value for (value,) in cursor.fetchall() if value]
    return tokens


def _decrypts_with(key: str, tokens: list[str]) -> bool:
    fernet = Fernet(key.encode())
    try:
        for token in tokens:
            fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


@pytest.fixture
def data_under_key_a(make_request: Callable[..., Request]) -> Request:
    """A rectification request with a note and an extension (so history rows)."""
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        request = make_request(
            kind="rectification",
            identity={"email": "ada.lovelace@example.com", "phone": "+44 20 7946 0001"},
            corrections={"name": "Ada King"},
            details="My surname changed.",
            verified=True,
        )
        actor = actor_system("tests")
        request_extend(actor=actor, request=request, reason="Many systems to check.")
        request_add_note(actor=actor, request=request, text="Called the customer.")
    return request


def test_rotation_moves_every_value_to_the_new_key(data_under_key_a: Request) -> None:
    # given values under key A only
    tokens = _stored_tokens()
    assert len(tokens) >= 10
    assert _decrypts_with(KEY_A, tokens)
    assert Request.history.filter(id=data_under_key_a.pk).count() >= 2

    # when B becomes the newest key and the command runs (small batches)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        output = _rotate(batch_size=2)

    # then everything is readable with B alone
    assert f"Re-encrypted {len(tokens)} value(s)." in output
    assert _decrypts_with(KEY_B, _stored_tokens())
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        request = Request.objects.get(pk=data_under_key_a.pk)
        assert request.identity["email"] == "ada.lovelace@example.com"
        assert request.corrections == {"name": "Ada King"}
        assert request.details == "My surname changed."
        assert RequestNote.objects.get(request=request).text == "Called the customer."
        values = set(SubjectIdentifier.objects.values_list("value", flat=True))
        assert values == {"ada.lovelace@example.com", "+44 20 7946 0001"}
        old_versions = [h.identity for h in Request.history.filter(id=request.pk)]
        assert all(v["email"] == "ada.lovelace@example.com" for v in old_versions)


def test_running_again_changes_nothing(data_under_key_a: Request) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        _rotate()
        after_first = sorted(_stored_tokens())

        output = _rotate()

    assert "Re-encrypted 0 value(s)." in output
    assert sorted(_stored_tokens()) == after_first


def test_dry_run_writes_nothing(data_under_key_a: Request) -> None:
    before = sorted(_stored_tokens())

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        output = _rotate(dry_run=True)

    assert f"Would re-encrypt {len(before)} value(s)." in output
    assert sorted(_stored_tokens()) == before


def test_a_value_no_key_can_read_fails_loudly_without_printing_it(
    data_under_key_a: Request,
) -> None:
    # given a value encrypted under a key that is no longer configured
    stray = Fernet(Fernet.generate_key()).encrypt(b"secret@example.com").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dsr_requestnote SET text = %s WHERE request_id = %s",
            [stray, data_under_key_a.pk],
        )
    note_pk = RequestNote.objects.values_list("pk", flat=True).get()

    # when / then: the rest is rotated, the stray row is named by its key only
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]),
        pytest.raises(CommandError) as failure,
    ):
        _rotate()
    assert f"dsr.RequestNote.text (pk {note_pk})" in str(failure.value)
    assert "secret" not in str(failure.value)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert Request.objects.get(pk=data_under_key_a.pk).details


def test_every_encrypted_column_is_found_including_history() -> None:
    labels = {f"{m._meta.label}.{f.name}" for m, f in encrypted_columns()}

    assert {
        "dsr.Request.identity",
        "dsr.HistoricalRequest.identity",
        "subjects.SubjectIdentifier.value",
        "subjects.HistoricalSubjectIdentifier.value",
        "dsr.RequestNote.text",
    } <= labels
