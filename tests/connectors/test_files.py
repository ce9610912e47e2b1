"""The files kind against real transcript folders: access, erase, verify."""

from __future__ import annotations

import fcntl
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from accounts.actors import actor_system
from connectors.base import ConfigError, ConnectorError, Identity
from connectors.kinds import files as files_kind
from connectors.kinds.files import LOCK_NAME, FilesConnector
from connectors.services import connector_create
from dsr.models import RequestTask
from tests.disclosure import CATEGORIES, DISCLOSURE

ADA = Identity(
    emails=("Ada.Lovelace@example.com",),
    phones=("+44 20 7946 0958",),
    customer_ids={"crm": ("C-1001",)},
)
ADA_VALUES = ("ada.lovelace@example.com", "7946 0958", "C-1001")

IDENTITY_CONFIG = {
    "email": "customer.email",
    "phone": "customer.phone",
    "customer_id": {"path": "customer.id", "system": "crm"},
}


def _chat(
    chat_id: str | None, email: str, phone: str, crm: str, *texts: str
) -> dict[str, Any]:
    chat: dict[str, Any] = {
        "customer": {"email": email, "phone": phone, "id": crm},
        "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "text": text}
            for i, text in enumerate(texts)
        ],
        "summary": f"Customer asked about order #{len(texts) * 1111}.",
    }
    if chat_id is not None:
        chat["id"] = chat_id
    return chat


def _write(path: Path, *lines: dict[str, Any] | str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            text = line if isinstance(line, str) else json.dumps(line)
            handle.write(text + "\n")


def _lines(path: Path) -> list[dict[str, Any]]:
    """The JSON conversations of a file (other lines left out)."""
    chats = []
    for line in path.read_text().splitlines():
        try:
            chats.append(json.loads(line))
        except ValueError:
            continue
    return chats


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two transcript files and a file the pattern does not match.

    Ada owns three conversations (by e-mail, by phone in another format, by
    CRM id); Bob's conversation quotes her address; Cy has nothing to do with
    her."""
    root = tmp_path / "transcripts"
    root.mkdir()
    _write(
        root / "chats-0001.jsonl",
        _chat("chat-1", "ada.lovelace@EXAMPLE.com", "", "", "Hi, I am Ada."),
        _chat("chat-2", "bob@example.com", "+1 555 0100", "C-2002", "Hello"),
        _chat(
            "chat-3",
            "bob@example.com",
            "",
            "C-2002",
            "Please forward this to Ada.Lovelace@example.com",
        ),
        "this line is not JSON and mentions nobody",
        _chat("chat-4", "cy@example.com", "", "C-3003", "Where is my parcel?"),
    )
    _write(
        root / "chats-0002.jsonl",
        _chat(None, "", "+44 (0)20 7946-0958", "", "Call me back on +44 20 7946 0958"),
        _chat("chat-6", "", "", "C-1001", "My order is late", "Sorry about that"),
        _chat("chat-7", "dee@example.com", "", "C-1001-B", "Another customer"),
    )
    (root / "notes.txt").write_text("ada.lovelace@example.com was here\n")
    return root


def _connector(folder: Path, **overrides: Any) -> FilesConnector:
    config: dict[str, Any] = {
        "folder": str(folder),
        "identity": IDENTITY_CONFIG,
        "text_fields": ["messages[].text", "summary"],
        "erase": "delete",
    }
    config.update(overrides)
    return FilesConnector(
        name="transcripts",
        config=FilesConnector.validate_config(config),
        secrets={},
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"folder": None}, "config.folder"),
        ({"folder": "relative/chats"}, "config.folder"),
        ({"folder": "/srv/../etc"}, "config.folder"),
        ({"pattern": "../*.jsonl"}, "config.pattern"),
        ({"identity": {}}, "config.identity"),
        ({"identity": {"name": "customer.name"}}, "config.identity.name"),
        ({"identity": {"email": "customer..email"}}, "config.identity.email"),
        ({"identity": {"email": ["customer.email", 7]}}, "config.identity.email[1]"),
        (
            {"identity": {"customer_id": {"system": "crm"}}},
            "config.identity.customer_id.path",
        ),
        (
            {"identity": {"customer_id": {"path": "customer.id", "system": "C R M"}}},
            "config.identity.customer_id.system",
        ),
        ({"text_fields": ["summary", "messages[0].text"]}, "config.text_fields[1]"),
        ({"text_fields": "summary"}, "config.text_fields"),
        ({"erase": "shred"}, "config.erase"),
        ({"colour": "blue"}, "config.colour"),
    ],
)
def test_a_bad_config_is_refused_with_the_path_inside_it(
    folder: Path, change: dict[str, Any], field: str
) -> None:
    config = {"folder": str(folder), "identity": IDENTITY_CONFIG, **change}
    config = {key: value for key, value in config.items() if value is not None}

    with pytest.raises(ConfigError) as error:
        FilesConnector.validate_config(config)

    assert error.value.field == field


def test_a_config_gets_its_defaults_spelled_out(folder: Path) -> None:
    cleaned = FilesConnector.validate_config(
        {"folder": str(folder), "identity": {"email": "customer.email"}}
    )

    assert cleaned == {
        "folder": str(folder),
        "pattern": "*.jsonl",
        "identity": {"email": "customer.email"},
        "text_fields": [],
        "erase": "delete",
        "id_field": "id",
        "category": "ai_conversation",
    }


def test_folders_outside_the_allowed_roots_are_refused(
    folder: Path, settings: Any, tmp_path: Path
) -> None:
    settings.CONNECTOR_FILES_ROOTS = [str(tmp_path / "elsewhere")]

    with pytest.raises(ConfigError) as error:
        _connector(folder)

    assert error.value.field == "config.folder"


# --- access ---------------------------------------------------------------------------


def test_access_finds_the_subjects_conversations_by_every_identifier(
    folder: Path,
) -> None:
    records = list(_connector(folder).access(ADA))

    assert [(r.location, r.key) for r in records] == [
        ("chats-0001.jsonl", "chat-1"),  # e-mail, whatever its case
        ("chats-0002.jsonl", "line:1"),  # phone in another format, no id field
        ("chats-0002.jsonl", "chat-6"),  # CRM id
    ]
    assert all(r.category == "ai_conversation" for r in records)
    assert records[2].data["messages"][0]["text"] == "My order is late"


def test_access_ignores_other_customers_and_files_outside_the_pattern(
    folder: Path,
) -> None:
    keys = {r.key for r in _connector(folder).access(ADA)}

    assert "chat-3" not in keys  # Bob's chat only quotes her address
    assert "chat-7" not in keys  # C-1001-B is not C-1001
    assert not any(r.location == "notes.txt" for r in _connector(folder).access(ADA))


def test_access_streams_a_large_file_line_by_line(tmp_path: Path) -> None:
    # given 20,000 conversations (~8 MB), two of them Ada's
    big = tmp_path / "big"
    big.mkdir()
    filler = "x" * 300
    with (big / "all.jsonl").open("w") as handle:
        for number in range(20_000):
            email = "ada.lovelace@example.com" if number in (5, 19_999) else "o@x.io"
            handle.write(json.dumps(_chat(f"c{number}", email, "", "", filler)) + "\n")
    connector = _connector(big)

    # when
    tracemalloc.start()
    try:
        keys = [record.key for record in connector.access(ADA)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then: the whole file never sat in memory
    assert keys == ["c5", "c19999"]
    assert peak < 2 * 1024 * 1024


# --- erase: delete --------------------------------------------------------------------


def test_erase_delete_drops_the_subjects_conversations_and_nothing_else(
    folder: Path,
) -> None:
    before = _snapshot(folder)

    outcome = _connector(folder, erase="delete").erase(ADA)

    first = _lines(folder / "chats-0001.jsonl")
    assert [c.get("id") for c in first] == [
        "chat-2",
        "chat-3",
        "chat-4",
    ]
    # Bob's chat stays, with her address replaced
    bob = next(c for c in first if c.get("id") == "chat-3")
    assert bob["messages"][0]["text"] == "Please forward this to <EMAIL_ADDRESS>"
    # untouched lines are byte-for-byte the same, the non-JSON line included
    old_lines = before["chats-0001.jsonl"].splitlines(keepends=True)
    new_lines = (folder / "chats-0001.jsonl").read_bytes().splitlines(keepends=True)
    for index in (1, 3, 4):
        assert old_lines[index] in new_lines
    assert [c.get("id") for c in _lines(folder / "chats-0002.jsonl")] == ["chat-7"]
    assert (folder / "notes.txt").read_bytes() == before["notes.txt"]
    assert outcome.found == 4
    assert outcome.changed == 4
    assert outcome.per_location == {
        "chats-0001.jsonl": {"found": 2, "changed": 2},
        "chats-0002.jsonl": {"found": 2, "changed": 2},
    }


def test_erase_leaves_no_temporary_files_and_keeps_file_modes(folder: Path) -> None:
    os.chmod(folder / "chats-0001.jsonl", 0o640)

    _connector(folder).erase(ADA)

    names = sorted(p.name for p in folder.iterdir())
    assert names == [LOCK_NAME, "chats-0001.jsonl", "chats-0002.jsonl", "notes.txt"]
    assert (folder / "chats-0001.jsonl").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("mode", ["delete", "redact_pii"])
def test_erase_twice_changes_nothing_the_second_time(folder: Path, mode: str) -> None:
    if mode == "redact_pii":
        pytest.importorskip("connectors.redaction")
    connector = _connector(folder, erase=mode)
    connector.erase(ADA)
    after_first = _snapshot(folder)
    inodes = {p.name: p.stat().st_ino for p in folder.iterdir()}

    second = connector.erase(ADA)

    assert second.changed == 0
    assert _snapshot(folder) == after_first
    # not even rewritten: the same files, not copies of them
    assert {p.name: p.stat().st_ino for p in folder.iterdir()} == inodes


# --- erase: redact_pii ----------------------------------------------------------------


def test_erase_redact_pii_keeps_the_conversation_without_the_subject(
    folder: Path,
) -> None:
    pytest.importorskip("connectors.redaction")

    outcome = _connector(folder, erase="redact_pii").erase(ADA)

    chats = {c.get("id", "no-id"): c for c in _lines(folder / "chats-0002.jsonl")}
    by_phone = chats["no-id"]
    assert by_phone["customer"]["phone"] == "<PHONE_NUMBER>"
    assert by_phone["messages"][0]["text"] == "Call me back on <PHONE_NUMBER>"
    by_crm = chats["chat-6"]
    assert by_crm["customer"]["id"] == "<CUSTOMER_ID>"
    # the rest of the conversation stays useful
    assert [m["text"] for m in by_crm["messages"]] == [
        "My order is late",
        "Sorry about that",
    ]
    assert chats["chat-7"]["customer"]["id"] == "C-1001-B"  # another customer
    text = (folder / "chats-0001.jsonl").read_text().lower()
    text += json.dumps([c for c in chats.values() if c.get("id") != "chat-7"])
    for value in ADA_VALUES:
        assert value.lower() not in text.lower()
    assert outcome.changed == 4


# --- verification ---------------------------------------------------------------------


def test_verify_counts_what_is_left_and_nothing_after_erasure(folder: Path) -> None:
    connector = _connector(folder)
    before = connector.verify_erased(ADA)

    connector.erase(ADA)
    after = connector.verify_erased(ADA)

    assert before.found == 4  # three conversations and Bob's quote
    assert "still hold" in before.note
    assert after.found == 0
    assert after.per_location == {}


def test_verify_sees_an_identifier_left_in_a_line_that_is_not_json(
    folder: Path,
) -> None:
    with (folder / "chats-0002.jsonl").open("a") as handle:
        handle.write("broken {line from ada.lovelace@example.com\n")
    connector = _connector(folder)

    assert connector.verify_erased(ADA).per_location["chats-0002.jsonl"]["found"] == 3
    connector.erase(ADA)

    assert connector.verify_erased(ADA).found == 0
    assert (
        "broken {line from <EMAIL_ADDRESS>" in (folder / "chats-0002.jsonl").read_text()
    )


# --- atomicity and concurrency --------------------------------------------------------


def test_a_rewrite_that_fails_halfway_leaves_every_file_untouched(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a redactor that breaks on the second text it is given
    calls = {"n": 0}

    def failing_redact(text: str, *, known: Any) -> tuple[str, int]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("redactor crashed")
        return "<REDACTED>", 1

    monkeypatch.setattr(files_kind, "redact_pii", failing_redact)
    before = _snapshot(folder)
    connector = _connector(folder, erase="redact_pii")

    # when
    with pytest.raises(RuntimeError):
        connector.erase(ADA)

    # then: the same bytes, no temporary file left, and the lock is free again
    after = _snapshot(folder)
    after.pop(LOCK_NAME)
    assert after == before
    monkeypatch.setattr(
        files_kind, "redact_pii", lambda text, *, known: ("<REDACTED>", 1)
    )
    assert connector.erase(ADA).changed == 4


def test_erase_waits_for_the_folder_lock_and_gives_up_retryably(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FilesConnector, "lock_timeout", 0.0)
    before = _snapshot(folder)
    with (folder / LOCK_NAME).open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)

        with pytest.raises(ConnectorError) as error:
            _connector(folder).erase(ADA)

    assert not error.value.permanent
    after = _snapshot(folder)
    after.pop(LOCK_NAME)
    assert after == before


def test_a_conversation_appended_during_the_rewrite_is_not_lost(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a chatbot that appends two conversations (Ada's, Eve's) while the
    # first file is being rewritten, without taking the lock
    original = FilesConnector._erase_line
    appended = {"done": False}

    def erase_line_with_writer(self: FilesConnector, raw: bytes, *args: Any) -> Any:
        if not appended["done"]:
            appended["done"] = True
            with (folder / "chats-0001.jsonl").open("a") as handle:
                handle.write(
                    json.dumps(_chat("late-ada", "ada.lovelace@example.com", "", ""))
                    + "\n"
                    + json.dumps(_chat("late-eve", "eve@example.com", "", ""))
                    + "\n"
                )
        return original(self, raw, *args)

    monkeypatch.setattr(FilesConnector, "_erase_line", erase_line_with_writer)

    # when
    _connector(folder).erase(ADA)

    # then: the file was read again: Eve's chat kept, the late Ada chat gone
    ids = [c.get("id") for c in _lines(folder / "chats-0001.jsonl")]
    assert "late-eve" in ids
    assert "late-ada" not in ids
    assert "chat-1" not in ids


# --- health ---------------------------------------------------------------------------


def test_health_reports_the_matching_files(folder: Path) -> None:
    assert _connector(folder).health().status == "ok: 2 file(s) match *.jsonl"


def test_health_of_a_missing_folder_is_a_permanent_error(tmp_path: Path) -> None:
    connector = _connector(tmp_path / "gone")

    with pytest.raises(ConnectorError) as error:
        connector.health()

    assert error.value.permanent
    assert "does not exist" in error.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_health_of_a_read_only_folder_is_a_permanent_error(folder: Path) -> None:
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(ConnectorError) as error:
            _connector(folder).health()
    finally:
        os.chmod(folder, 0o755)

    assert error.value.permanent


# --- through the executor -------------------------------------------------------------


@pytest.mark.django_db
def test_an_erasure_request_empties_the_folder_and_is_verified(
    folder: Path, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a files connector, set up as staff would
    connector_create(
        actor=actor_system("tests"),
        name="chats",
        kind="files",
        config={"folder": str(folder), "identity": IDENTITY_CONFIG},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )

    # when a verified erasure request for Ada runs (tasks run at commit)
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(
            kind="erasure",
            identity={"email": "ada.lovelace@example.com"},
            verified=True,
        )

    # then
    request.refresh_from_db()
    tasks = {t.action: t for t in RequestTask.objects.filter(request=request)}
    assert tasks["erase"].status == "succeeded"
    assert tasks["erase"].records_changed == 2  # her chat and Bob's quote
    assert tasks["verify_erasure"].status == "succeeded"
    assert tasks["verify_erasure"].records_found == 0
    assert request.status == "completed"
    assert "chat-1" not in (folder / "chats-0001.jsonl").read_text()
