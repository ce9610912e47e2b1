"""The package's data.json and CSV files, byte for byte, against a plain
model of the format: each record read from its result line, written as one
JSON object, and CSV rows under the header of every column the table's rows
hold, in order of first appearance: each record flattened by the rule of
dsr.packages.flatten (dotted columns for nested objects, lists of values
joined with "; ", one row per element of a list of objects, JSON text read as
JSON), which the model below restates plainly.

The writer streams and batches (dsr.packages.build, dsr.packages.spool);
these records are chosen to take its slow paths: a column appearing late in
a table (earlier rows get empty cells), keys in another order, values a CSV
writes its own way (booleans, None, numbers, nested JSON, spreadsheet
formulas, text with commas, quotes and line breaks), categories the
portability export leaves out, blank lines, and enough rows to cross the
writer's batches and spill its buffers to disk.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from dsr.packages.build import package_build
from dsr.packages.scan import PackageInput, StoreInput
from tests.dsr.packages.conftest import HELPDESK_DISCLOSURE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _tricky_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number in range(3_000):
        data: dict[str, Any] = {
            "id": number,
            "body": f'Line {number}, "quoted"\nsecond line é ü {"x" * (number % 50)}',
            "created_at": "2026-01-02T03:04:05+00:00",
        }
        if number % 7 == 0:
            data["body"] = ("=SUM(A1)", "+1", "-2", "@me", "\tx", None)[number % 6]
        if number >= 1_500:
            data["flag"] = number % 2 == 0  # a column that appears late
        if number % 11 == 0:
            data = dict(reversed(list(data.items())))  # keys in another order
        records.append(
            {
                "location": "messages",
                "key": str(number),
                "category": "support_message" if number % 5 else "internal_note",
                "data": data,
            }
        )
        if number % 300 == 0:
            records.append(
                {
                    "location": "tickets",
                    "key": f"t{number}",
                    "category": "support_ticket",
                    "data": {
                        "id": number,
                        "score": number / 7,
                        "tags": ["a", {"b": 1}],
                        "meta": {"z": 1, "a": None},
                        "open": False,
                    },
                }
            )
    # conversations: a list of objects (one CSV row each), the same as JSON
    # text, nested objects, a list of lists, two lists side by side
    for number in range(40):
        records.append(
            {
                "location": "chats.jsonl",
                "key": f"chat-{number}",
                "category": "ai_conversation",
                "data": {
                    "customer": {
                        "email": f"p{number}@example.com",
                        "tier": None,
                        "notes": [{"by": "agent", "note": "vip"}],
                    },
                    "id": f"chat-{number}",
                    "messages": [
                        {"role": "user", "text": f"=hi {number}", "at": number},
                        {"role": "assistant", "text": "Hello,\nhow can I help?"},
                    ][: 1 + number % 2],
                    "tags": ["a", "b", None, True] if number % 3 else [],
                    "grid": [[1, 2], ["x"]] if number % 4 == 0 else {},
                    "raw": json.dumps([{"who": "me", "said": number}])
                    if number % 5 == 0
                    else "[not json",
                    "files": [{"name": "a.png"}, {"name": "b.png"}, {"name": "c"}]
                    if number % 6 == 0
                    else [],
                },
            }
        )
    # a single-column table whose only value is empty, and a non-dict data
    records.append(
        {"location": "odd", "key": "1", "category": "contact", "data": {"v": None}}
    )
    records.append({"location": "odd", "key": "2", "category": "contact", "data": 5})
    records.append({"location": "", "key": 3, "data": {"k": "v"}})
    return records


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]
    lines.insert(10, "   ")  # blank lines are skipped
    return ("\n".join(lines) + "\n").encode()


def _model(
    lines: bytes, wanted: frozenset[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The records of data.json and each table's CSV text, written plainly."""
    records = []
    for line in lines.splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if wanted and raw.get("category", "") not in wanted:
            continue
        data = raw.get("data")
        records.append(
            {
                "location": str(raw.get("location", "")),
                "key": str(raw.get("key", "")),
                "category": str(raw.get("category", "") or ""),
                "data": data if isinstance(data, dict) else {"value": data},
            }
        )
    columns: dict[str, dict[str, None]] = {}
    flat: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        table = columns.setdefault(record["location"], {})
        for row in _flat_object(record["data"], ""):
            flat.setdefault(record["location"], []).append(row)
            for column in row:
                table.setdefault(column, None)
    texts = {}
    for location, table in columns.items():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(list(table))
        for row in flat[location]:
            writer.writerow([_cell(row.get(c)) for c in table])
        texts[location] = out.getvalue()
    return records, texts


def _json_text(value: Any) -> Any:
    """A text holding a JSON object, or a list with an object in it, as JSON."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, dict):
            return decoded
        if isinstance(decoded, list) and any(isinstance(i, dict) for i in decoded):
            return decoded
    return value


def _flat(value: Any, key: str) -> list[dict[str, Any]]:
    """The rows one value at `key` makes; several only from a list of objects."""
    value = _json_text(value)
    if isinstance(value, dict):
        return _flat_object(value, key + ".") if value else [{key: None}]
    if isinstance(value, list):
        items = [_json_text(i) for i in value]
        if not any(isinstance(i, dict | list) for i in items):
            return [{key: "; ".join(_plain(i) for i in items)}]
        rows: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, dict):
                rows += _flat_object(item, key + ".") if item else [{}]
            else:
                rows += _flat(item, key)
        return rows
    return [{key: value}]


def _flat_object(obj: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """An object's rows: its parts side by side, row n with the n-th row of
    each part that has several, and each one-row part on every row."""
    parts = [(_flat(v, prefix + k), _has_rows(v)) for k, v in obj.items()]
    count = max([len(rows) for rows, _ in parts] + [1])
    result = []
    for index in range(count):
        row: dict[str, Any] = {}
        for rows, stacked in parts:
            if not stacked:
                row.update(rows[0])
            elif index < len(rows):
                row.update(rows[index])
        result.append(row)
    return result


def _has_rows(value: Any) -> bool:
    """Whether the value holds a list of objects (or of lists) anywhere."""
    value = _json_text(value)
    if isinstance(value, dict):
        return any(_has_rows(v) for v in value.values())
    return isinstance(value, list) and any(
        isinstance(_json_text(i), dict | list) for i in value
    )


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


@pytest.mark.parametrize("kind", ["access", "portability"])
def test_data_json_and_csv_are_the_format_byte_for_byte(kind: str) -> None:
    # given one store's result file with records that take every path
    content = _jsonl(_tricky_records())
    name = default_storage.save("dsr/format/result.jsonl", ContentFile(content))
    wanted = frozenset(
        {"support_message", "support_ticket", "contact", "ai_conversation"}
    )
    spec = PackageInput(
        reference="DSR-FORMAT",
        kind=kind,
        regime="gdpr",
        regime_label="GDPR",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        generated_at=datetime(2026, 1, 2, tzinfo=UTC),
        pseudonym="subject-1",
        controller_name="Example Ltd",
        supervisory_authority="The authority",
        stores=[
            StoreInput(
                connector="helpdesk",
                result_file=name,
                result_digest=hashlib.sha256(content).hexdigest(),
                data_categories=("support_message",),
                disclosure=HELPDESK_DISCLOSURE,
            )
        ],
        portability_categories=wanted,
    )

    # when
    built = package_build(spec)

    # then every record is in data.json as the model writes it, in order
    expected, csv_texts = _model(
        content, wanted if kind == "portability" else frozenset()
    )
    archive = zipfile.ZipFile(built.file)
    data = archive.read("data.json").decode()
    (store,) = json.loads(data)["stores"]
    assert built.record_count == len(expected)
    assert store["records"] == expected
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in expected)
    assert data.endswith(', "records": [\n' + body + "]}\n]}\n")
    # and each table's CSV is the model's, byte for byte
    for table in store["tables"]:
        text = archive.read(table["csv"]).decode()
        assert text == csv_texts[table["location"]], table["location"]
    assert sorted(t["location"] for t in store["tables"]) == sorted(csv_texts)
    assert archive.testzip() is None
