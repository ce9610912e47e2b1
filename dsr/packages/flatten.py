"""A record's data as flat rows, for the package's CSV files and index.html.

The rule (shipped in schema.json's description and index.html too):

- a nested object becomes dotted columns: `{"customer": {"email": x}}` ->
  `customer.email`;
- a list of plain values becomes one cell, the values joined with "; ";
- a list of objects (a transcript's `messages`) becomes one row per element:
  the record's other columns repeated on each, the element's keys as
  `messages.role`, `messages.text`; two such lists in one record are laid
  side by side (row n holds the n-th element of each), never multiplied;
- a text that holds a JSON object, or a JSON list with an object in it (some
  stores keep a conversation as JSON text in one column), is read as that
  JSON; any other text stays as it is.

data.json keeps every record exactly as the store gave it.

Most records (a SQL row) hold plain values only: `flat_rows` then returns the
record itself, after one look at its values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_JSON_START = frozenset("[{")
LIST_JOIN = "; "
# Keys that make a list of objects a conversation (each turn says who spoke
# and what), and the key of each turn's time, in order of preference.
SPEAKER_KEYS = ("role", "speaker", "author", "sender", "from", "name")
TEXT_KEYS = ("text", "content", "body", "message")
TIME_KEYS = ("time", "timestamp", "created_at", "sent_at", "at", "date")


def _structured(value: Any) -> Any:
    """`value`, or the JSON it holds if it is a text of an object, or of a
    list with an object in it."""
    if type(value) is str and value[:1] in _JSON_START:
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, dict) or (
            isinstance(decoded, list) and any(isinstance(i, dict) for i in decoded)
        ):
            return decoded
    return value


def is_plain(data: Mapping[str, Any]) -> bool:
    """Whether every value is already a cell (nothing to flatten)."""
    for value in data.values():
        kind = type(value)
        if kind is dict or kind is list or (kind is str and value[:1] in _JSON_START):
            return False
    return True


def flat_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's rows under the rule above (at least one)."""
    if is_plain(data):
        return [data]
    return _rows(data, "")


def scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(obj: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    return _object_rows(obj, prefix)[0]


def _object_rows(
    obj: Mapping[str, Any], prefix: str
) -> tuple[list[dict[str, Any]], bool]:
    """The object's rows, and whether a list of objects made them (then even
    one row belongs to row 0 only, not to every row of its parent)."""
    row: dict[Any, Any] = {}
    stacks: list[list[dict[str, Any]]] = []
    for name, value in obj.items():
        _place(f"{prefix}{name}", value, row, stacks)
    if not stacks:
        return [row], False
    return _side_by_side(row, stacks), True


def _place(
    key: str, value: Any, row: dict[Any, Any], stacks: list[list[dict[str, Any]]]
) -> None:
    value = _structured(value)
    if isinstance(value, dict):
        if not value:
            row[key] = None
            return
        rows, stacked = _object_rows(value, f"{key}.")
        if not stacked:
            row.update(rows[0])
        else:
            row[len(stacks)] = None  # where its columns go, in key order
            stacks.append(rows)
    elif isinstance(value, list):
        if all(not isinstance(_structured(i), dict | list) for i in value):
            row[key] = LIST_JOIN.join(scalar_text(i) for i in value)
            return
        rows = []
        for item in value:
            rows.extend(_element_rows(key, item))
        row[len(stacks)] = None
        stacks.append(rows)
    else:
        row[key] = value


def _element_rows(key: str, item: Any) -> list[dict[str, Any]]:
    item = _structured(item)
    if isinstance(item, dict):
        return _rows(item, f"{key}.") if item else [{}]
    row: dict[Any, Any] = {}
    stacks: list[list[dict[str, Any]]] = []
    _place(key, item, row, stacks)
    return _side_by_side(row, stacks) if stacks else [row]


def _side_by_side(
    row: dict[Any, Any], stacks: list[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Row n: the plain columns, and the n-th row of each stack in its place."""
    count = max(len(stack) for stack in stacks) or 1
    rows = []
    for index in range(count):
        out: dict[str, Any] = {}
        for key, value in row.items():
            if type(key) is int:
                stack = stacks[key]
                if index < len(stack):
                    out.update(stack[index])
            else:
                out[key] = value
        rows.append(out)
    return rows


def conversation_key(
    data: Mapping[str, Any],
) -> tuple[str, list[dict[str, Any]]] | None:
    """The key and turns of the record's conversation, if it holds one: a
    list of objects each with a speaker and a text (the first such list)."""
    for key, value in data.items():
        turns = _structured(value)
        if (
            isinstance(turns, list)
            and turns
            and all(isinstance(t, dict) for t in turns)
            and _pick(turns[0], SPEAKER_KEYS) is not None
            and _pick(turns[0], TEXT_KEYS) is not None
        ):
            return key, turns
    return None


def _pick(turn: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        if key in turn and not isinstance(turn[key], dict | list):
            return key
    return None


def turn_parts(turn: Mapping[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """(speaker, time, text, the turn's other fields flattened) of one turn."""
    speaker_key = _pick(turn, SPEAKER_KEYS)
    text_key = _pick(turn, TEXT_KEYS)
    time_key = _pick(turn, TIME_KEYS)
    used = {speaker_key, text_key, time_key}
    rest = {k: v for k, v in turn.items() if k not in used}
    others = flat_rows(rest)[0] if rest else {}
    return (
        scalar_text(turn.get(speaker_key)) if speaker_key else "",
        scalar_text(turn.get(time_key)) if time_key else "",
        scalar_text(turn.get(text_key)) if text_key else "",
        others,
    )
