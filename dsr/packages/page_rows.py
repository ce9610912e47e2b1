"""What index.html shows of one table, rendered while the scan reads it.

The first `PAGE_ROWS` records of each table are rendered as HTML at once,
escaped, into a spool (in memory while small, a temporary file past
_SPOOL_BYTES), like the CSV rows (dsr.packages.spool.TableRows): records
that are conversations as a conversation (who spoke, when, what was said),
the others as rows of a table whose columns are their flattened keys. The
rest of a long table is in its CSV and data.json; index.html says so.
dsr.packages.build copies the spools into index.html after the scan, at the
table's markers (dsr.packages.index_page).

A table row is spooled as one line, `<cells>\\t<tr>...` without its `</tr>`:
columns only ever grow at the end, so a row written before a column first
appeared is completed with empty cells when it is copied.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from django.utils.html import escape

from connectors.disclosure import humanised
from dsr.packages.flatten import conversation_key, flat_rows, turn_parts

PAGE_ROWS = 500  # records of each table index.html shows
_SPOOL_BYTES = 64 * 1024
_CHUNK = 64 * 1024


def column_heading(column: str) -> str:
    """A flattened key in words: `customer.email` -> "Customer › Email"."""
    return " › ".join(humanised(part) for part in column.split(".")) or column


def cell_html(value: Any) -> str:
    """A value as a table cell's escaped text (on one line: a line break is
    a character reference, shown as such by the page's pre-wrap style)."""
    if value is None:
        return ""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    text = str(escape(str(value)))
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", "&#10;").replace("\n", "&#10;")
        text = text.replace("\r", "&#10;")
    return text


class TablePage:
    """The spooled HTML of one table's first `limit` records."""

    def __init__(self, limit: int = PAGE_ROWS) -> None:
        self.limit = limit
        self.shown = 0  # records rendered
        self.columns: dict[str, None] = {}  # of the rows shown as a table
        self.rows = 0
        self.conversations = 0
        self._rows: IO[bytes] | None = None
        self._talk: IO[bytes] | None = None

    def add(self, data: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """One record (its data and its flat rows), if the page still has room."""
        if self.shown >= self.limit:
            return
        self.shown += 1
        talk = conversation_key(data)
        if talk is not None:
            self._add_conversation(data, *talk)
            return
        columns = self.columns
        lines = []
        for row in rows:
            for column in row:
                if column not in columns:
                    columns[column] = None
            cells = "".join(f"<td>{cell_html(row.get(c))}</td>" for c in columns)
            lines.append(f"{len(columns)}\t<tr>{cells}\n")
            self.rows += 1
        if self._rows is None:
            self._rows = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        self._rows.write("".join(lines).encode())

    def _add_conversation(
        self, data: dict[str, Any], key: str, turns: list[dict[str, Any]]
    ) -> None:
        rest = {k: v for k, v in data.items() if k != key}
        facts = _facts(rest)
        parts = ['<article class="conversation">']
        if facts:
            parts.append('<dl class="facts">')
            for column, value in facts.items():
                parts.append(
                    f"<div><dt>{escape(column_heading(column))}</dt>"
                    f"<dd>{cell_html(value)}</dd></div>"
                )
            parts.append("</dl>")
        parts.append(f'<ol class="turns" aria-label="{escape(humanised(key))}">')
        for turn in turns:
            speaker, when, text, others = turn_parts(turn)
            parts.append(
                '<li class="turn"><p class="who">'
                f"<strong>{escape(humanised(speaker) if speaker else '—')}</strong>"
                + (f" <time>{escape(when)}</time>" if when else "")
                + f'</p><p class="said">{cell_html(text)}</p>'
            )
            if others:
                extra = "; ".join(
                    f"{escape(column_heading(c))}: {cell_html(v)}"
                    for c, v in others.items()
                    if v not in (None, "")
                )
                if extra:
                    parts.append(f'<p class="meta">{extra}</p>')
            parts.append("</li>")
        parts.append("</ol></article>\n")
        if self._talk is None:
            self._talk = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        self._talk.write("".join(parts).encode())
        self.conversations += 1

    def copy_rows(self, out: IO[bytes]) -> None:
        """The table's rows, each completed to every column."""
        if self._rows is None:
            return
        self._rows.seek(0)
        width = len(self.columns)
        for line in self._rows:
            count, _, html = line.decode().rstrip("\n").partition("\t")
            out.write(f"{html}{'<td></td>' * (width - int(count))}</tr>\n".encode())

    def copy_conversations(self, out: IO[bytes]) -> None:
        if self._talk is not None:
            self._talk.seek(0)
            shutil.copyfileobj(self._talk, out, _CHUNK)

    def close(self) -> None:
        for handle in (self._rows, self._talk):
            if handle is not None:
                handle.close()


def _facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """A record's fields besides its conversation, flattened to one value per
    column (the distinct values of several rows joined with "; ")."""
    if not data:
        return {}
    rows = flat_rows(dict(data))
    if len(rows) == 1:
        return rows[0]
    merged: dict[str, list[str]] = {}
    for row in rows:
        for column, value in row.items():
            values = merged.setdefault(column, [])
            text = "" if value is None else str(value)
            if text and text not in values:
                values.append(text)
    return {column: "; ".join(values) for column, values in merged.items()}
