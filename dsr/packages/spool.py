"""The package's text for one store, written while the scan reads its result:
data.json's records, the CSV rows of each table (flat: dsr.packages.flatten)
and what index.html shows of each table (dsr.packages.page_rows).

Each result line is parsed once (dsr.packages.scan); its record goes here at
once, as JSON and as a CSV row, in batches. The buffers stay in memory while
small and spill to temporary files past a few hundred KB, so memory stays
flat whatever the subject's size; dsr.packages.build then copies them into
the ZIP after the parts that need the counts (the store's head, each CSV's
header).

A table's CSV header is every column its records hold, in order of first
appearance: a row is written with the columns seen so far, and if a later
record brings a new column, the earlier rows get their empty cells when the
table is copied (rare: a SQL table's rows all have the same columns).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from dsr.packages.page_rows import PAGE_ROWS, TablePage
from privacydesk.json_text import encoder

_BATCH = 256  # records held before they are written out together
_RECORDS_SPOOL_BYTES = 256 * 1024  # per store
_CSV_SPOOL_BYTES = 64 * 1024  # per table
_CHUNK = 64 * 1024
# A spreadsheet runs a cell starting with one of these as a formula; the CSV
# copy quotes them (data.json keeps the exact value).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = frozenset(_FORMULA_START)
# Values the csv module writes as the package does (None as an empty cell,
# numbers as str() gives them); the rest goes through csv_cell.
_CSV_AS_IS = frozenset({int, float, type(None)})

dumps = encoder(default=str)  # as json.dumps(ensure_ascii=False, default=str)


def csv_cell(value: Any) -> str:
    """A value as its CSV cell: empty for None, true/false, JSON for nested
    values, text with a formula's first character quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return dumps(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _spool(max_size: int) -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=max_size)


class _Collected(list[str]):
    """What a csv.writer writes, kept as pieces (a file opened for reading
    too, as a spool is, resets its decoder on every write: a Python call per
    row)."""

    write = list.append


class TableRows:
    """The CSV rows of one table, without the header (known at the end)."""

    def __init__(self) -> None:
        self.handle = _spool(_CSV_SPOOL_BYTES)
        self.collected = _Collected()
        self.writer = csv.writer(self.collected)
        self.columns: tuple[str, ...] = ()
        self.rows = 0
        self.ragged = False  # rows written before a column first appeared
        self.pending: list[list[Any]] = []

    def add(self, data: dict[str, Any], columns: dict[str, None]) -> None:
        if len(columns) != len(self.columns):
            self.ragged = self.ragged or self.rows > 0
            self.columns = tuple(columns)
        values: Iterable[Any] = data.values()
        if tuple(data) != self.columns:
            values = [data.get(column) for column in self.columns]
        self.pending.append(
            [
                v
                if type(v) in _CSV_AS_IS or (type(v) is str and v[:1] not in _FORMULA)
                else csv_cell(v)
                for v in values
            ]
        )
        self.rows += 1
        if len(self.pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        self.writer.writerows(self.pending)
        self.pending = []
        self.handle.write("".join(self.collected).encode())
        self.collected.clear()

    def copy_to(self, out: IO[bytes], columns: list[str]) -> None:
        """The header, then the rows (padded with empty cells if ragged)."""
        self.flush()
        header = io.StringIO()
        csv.writer(header).writerow(columns)
        out.write(header.getvalue().encode())
        self.handle.seek(0)
        if not self.ragged:
            shutil.copyfileobj(self.handle, out, _CHUNK)
            return
        rows = io.TextIOWrapper(self.handle, encoding="utf-8", newline="")
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        writer = csv.writer(text)
        for row in csv.reader(rows):
            writer.writerow(row + [""] * (len(columns) - len(row)))
        text.flush()
        text.detach()
        rows.detach()

    def close(self) -> None:
        self.handle.close()


class StoreSpool:
    """One store's records as data.json text (the part between the brackets
    of its "records"), and its tables' CSV rows."""

    def __init__(self, page_rows: int = PAGE_ROWS) -> None:
        self.handle = _spool(_RECORDS_SPOOL_BYTES)
        self.count = 0
        self.pending: list[str] = []
        self.tables: dict[str, TableRows] = {}
        # What index.html shows of each table: its first `page_rows` records.
        self.page_rows = page_rows
        self.pages: dict[str, TablePage] = {}

    def add(
        self,
        record: dict[str, Any],
        rows: list[dict[str, Any]],
        columns: dict[str, None],
    ) -> None:
        """A record (as package records are: location, key, category, data),
        its flat rows (dsr.packages.flatten) and the columns its table has so
        far."""
        self.pending.append(dumps(record))
        if len(self.pending) >= _BATCH:
            self.flush()
        location = record["location"]
        table = self.tables.get(location)
        if table is None:
            table = self.tables[location] = TableRows()
            self.pages[location] = TablePage(self.page_rows)
        for row in rows:
            table.add(row, columns)
        self.pages[location].add(record["data"], rows)

    def flush(self) -> None:
        if self.pending:
            text = ",\n".join(self.pending)
            self.handle.write((("\n" if not self.count else ",\n") + text).encode())
            self.count += len(self.pending)
            self.pending = []

    def copy_records(self, out: IO[bytes]) -> None:
        self.flush()
        self.handle.seek(0)
        shutil.copyfileobj(self.handle, out, _CHUNK)

    def close(self) -> None:
        self.handle.close()
        for rows in self.tables.values():
            rows.close()
        for page in self.pages.values():
            page.close()
