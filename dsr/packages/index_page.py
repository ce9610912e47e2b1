"""index.html with the subject's data in it, written as a stream.

The page is rendered once, with a marker where each table's rows and each
table's conversations go; the rendered text is split at the markers and the
tables' spooled HTML (dsr.packages.page_rows) is copied in between, so the
page is never whole in memory. The markers carry a token drawn per package:
every value on the page is escaped, so no data can forge one anyway.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import IO, Any

from django.template.loader import render_to_string

from dsr.packages.page_rows import TablePage, column_heading
from dsr.packages.scan import Store

INDEX_TEMPLATE = "dsr/access_package/index.html"


def data_sections(stores: list[Store], token: str) -> list[dict[str, Any]]:
    """Per store with data, per table: what the page says around its rows."""
    sections = []
    for number, store in enumerate(stores):
        if not store.records:
            continue
        assert store.spool is not None  # a scanned store has one
        tables = []
        for position, table in enumerate(store.tables.values()):
            page = store.spool.pages[table.location]
            labels = [store.category_label(c) for c in table.categories]
            tables.append(
                {
                    "anchor": f"data-{number}-{position}",
                    "heading": ", ".join(labels) or column_heading(table.location),
                    "location": table.location,
                    "records": table.records,
                    "csv_name": table.csv_name,
                    "shown": page.shown,
                    "more": table.records - page.shown,
                    "headings": [column_heading(c) for c in page.columns],
                    "has_rows": page.rows > 0,
                    "has_conversations": page.conversations > 0,
                    "rows_marker": _marker(token, number, position, "rows"),
                    "talk_marker": _marker(token, number, position, "talk"),
                }
            )
        sections.append(
            {
                "title": store.title,
                "connector": store.source.connector,
                "tables": tables,
            }
        )
    return sections


def _marker(token: str, store: int, table: int, part: str) -> str:
    return f"<!--{token}:{store}:{table}:{part}-->"


def write_index(out: IO[bytes], context: dict[str, Any], stores: list[Store]) -> None:
    """Render index.html into `out`, the spooled tables copied in place."""
    token = secrets.token_hex(8)
    text = render_to_string(
        INDEX_TEMPLATE, {**context, "data_sections": data_sections(stores, token)}
    )
    pattern = re.compile(rf"<!--{token}:(\d+):(\d+):(rows|talk)-->")
    position = 0
    for found in pattern.finditer(text):
        out.write(text[position : found.start()].encode())
        position = found.end()
        store = stores[int(found.group(1))]
        assert store.spool is not None  # a scanned store has one
        table = list(store.tables.values())[int(found.group(2))]
        page: TablePage = store.spool.pages[table.location]
        copy: Callable[[IO[bytes]], None] = (
            page.copy_rows if found.group(3) == "rows" else page.copy_conversations
        )
        copy(out)
    out.write(text[position:].encode())
