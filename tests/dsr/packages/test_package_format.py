"""The package's data.json and CSV files, byte for byte, against a plain
model of the format: each record read from its result line, written as one
JSON object, and one CSV row per record under the header of every column the
table's records hold, in order of first appearance.

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
    for record in records:
        table = columns.setdefault(record["location"], {})
        for column in record["data"]:
            table.setdefault(column, None)
    texts = {}
    for location, table in columns.items():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(list(table))
        for record in records:
            if record["location"] == location:
                writer.writerow([_cell(record["data"].get(c)) for c in table])
        texts[location] = out.getvalue()
    return records, texts


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "'" + value if value.startswith(FORMULA_START) else value


@pytest.mark.parametrize("kind", ["access", "portability"])
def test_data_json_and_csv_are_the_format_byte_for_byte(kind: str) -> None:
    # given one store's result file with records that take every path
    content = _jsonl(_tricky_records())
    name = default_storage.save("dsr/format/result.jsonl", ContentFile(content))
    wanted = frozenset({"support_message", "support_ticket", "contact"})
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
