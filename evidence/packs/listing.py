"""Tables as monospaced listings: one block per row, its columns padded.

A WeasyPrint table lays out, paints and breaks every cell as a box of its
own: in a simple request pack the tables were about 60% of the rendering. A
listing is one block per row whose lines are the columns padded with spaces,
so a row costs one box and one text layout per line. Only the last column
(free text) usually wraps, so a phrase stays whole when the text is
extracted. The rows themselves are built in evidence/templatetags/
evidence_listings.py.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

LINE = 114  # characters of 7pt DejaVu Sans Mono across an A4 portrait page
GAP = "  "


@dataclass(frozen=True)
class Col:
    title: str
    width: int = 0  # 0: what is left of the line
    right: bool = False  # numbers


Row = tuple[Sequence[Any], bool]  # cells, and whether a group starts here


def cols(*specs: str) -> list[Col]:
    """Columns from "Title:width" ("Title:width>" right-aligns, "Title" alone
    takes what is left of the line)."""
    columns = []
    for spec in specs:
        title, _, width = spec.rpartition(":") if ":" in spec else (spec, "", "0")
        columns.append(Col(title, int(width.rstrip(">")), width.endswith(">")))
    return columns


def plain(rows: Iterable[Sequence[Any]]) -> Iterable[Row]:
    """Rows of a listing that has no groups."""
    return ((cells, False) for cells in rows)


def _widths(columns: Sequence[Col]) -> list[int]:
    fixed = sum(c.width for c in columns) + len(GAP) * (len(columns) - 1)
    return [c.width or max(12, LINE - fixed) for c in columns]


def _cell_lines(value: Any, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in str("—" if value is None else value).split("\n"):
        lines += textwrap.wrap(
            paragraph, width, break_long_words=True, break_on_hyphens=False
        ) or [""]
    return lines


def _line(cells: Sequence[str], columns: Sequence[Col], widths: list[int]) -> str:
    return GAP.join(
        f"{cell:>{w}}" if col.right else f"{cell:<{w}}"
        for cell, col, w in zip(cells, columns, widths, strict=True)
    ).rstrip()


def listing(columns: Sequence[Col], rows: Iterable[Row]) -> SafeString:
    """A header and one block per row; every value is escaped here."""
    widths = _widths(columns)
    head = _line([c.title for c in columns], columns, widths)
    parts = [
        f'<div class="listing compact"><div class="listing-head">{escape(head)}</div>'
    ]
    for cells, group_start in rows:
        wrapped = [_cell_lines(v, w) for v, w in zip(cells, widths, strict=True)]
        height = max(len(lines) for lines in wrapped)
        text = "\n".join(
            _line(
                [lines[i] if i < len(lines) else "" for lines in wrapped],
                columns,
                widths,
            )
            for i in range(height)
        )
        css = "listing-row group-start" if group_start else "listing-row"
        parts.append(f'<div class="{css}">{escape(text)}</div>')
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value is escaped above)
