"""The SQL pieces of the pgvector engine: the layout, quoted names, the
match as an OR of conditions with its parameters, rows as points.

Every name goes through psycopg.sql.Identifier; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from connectors.base import ConnectorError
from connectors.kinds.vectors.base import Match, Point

LANGCHAIN = "langchain"
TABLES = "tables"
# pg_type oids of the integer types: a plain key column of one of them is
# compared with the digit values as numbers.
INTEGER_TYPES = {20, 21, 23}
TEXT_TYPES = {25, 1042, 1043}  # text, char(n), varchar(n)
JSON, JSONB = 114, 3802


@dataclass(frozen=True)
class Layout:
    """Where the points are, from the cleaned config."""

    layout: str
    table: str  # langchain: the embeddings table
    collection_table: str  # langchain: the collections table
    id: str
    document: str | None
    metadata: str | None  # the JSONB column; None: keys are columns
    embedding: str
    collection: str  # langchain: the column holding the collection's uuid
    keys: tuple[str, ...]  # every configured key (JSON keys or columns)
    page_size: int
    collections: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Layout:
        columns = config["columns"]
        return cls(
            layout=config["layout"],
            table=config.get("table", ""),
            collection_table=config.get("collection_table", ""),
            id=columns["id"],
            document=columns.get("document"),
            metadata=columns.get("metadata"),
            embedding=columns["embedding"],
            collection=columns.get("collection", ""),
            keys=tuple(config["keys"].values()),
            page_size=config["page_size"],
            collections=tuple(config["collections"]),
        )


def name(qualified: str) -> sql.Identifier:
    """`table` or `schema.table`, quoted."""
    return sql.Identifier(*qualified.split("."))


def match_condition(
    layout: Layout, table: str, types: Mapping[str, int], match: Match
) -> tuple[sql.Composable, list[Any]]:
    """The OR over the match's keys and values, and its parameters;
    `types`: the table's columns and their type oids."""
    if layout.metadata:
        return _json_where(layout, match, types.get(layout.metadata), table)
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for key, values in match.terms:
        column = sql.Identifier(key)
        oid = types.get(key)
        if oid is None:
            raise ConnectorError(f"column {key} not found in {table}", permanent=True)
        if oid in INTEGER_TYPES:
            numbers = list(Match.numbers(values))
            if numbers:
                parts.append(sql.SQL("{} = ANY(%s::bigint[])").format(column))
                params.append(numbers)
        elif oid in TEXT_TYPES:
            parts.append(sql.SQL("{} = ANY(%s::text[])").format(column))
            params.append(list(values))
        else:  # uuid, citext, ...: compared as text
            parts.append(sql.SQL("{}::text = ANY(%s::text[])").format(column))
            params.append(list(values))
    return _any(parts), params


def _json_where(
    layout: Layout, match: Match, oid: int | None, table: str
) -> tuple[sql.Composable, list[Any]]:
    column: sql.Composable = sql.Identifier(layout.metadata or "")
    if oid == JSON:  # compared as jsonb: no index serves it (health says)
        column = sql.SQL("{}::jsonb").format(column)
    elif oid != JSONB:
        raise ConnectorError(
            f"column {layout.metadata} of {table} is missing or not JSONB",
            permanent=True,
        )
    documents: list[Any] = []
    for key, values in match.terms:
        for value in (*values, *Match.numbers(values)):
            documents.append({key: value})
            if "." in key:
                nested: Any = value
                for part in reversed(key.split(".")):
                    nested = {part: nested}
                documents.append(nested)
    condition = sql.SQL("{} @> %s").format(column)
    return _any([condition] * len(documents)), [Jsonb(d) for d in documents]


def point_of(layout: Layout, columns: list[str], row: Sequence[Any]) -> Point:
    """A row read with `columns` as a Point (its metadata JSON-ready)."""
    lay = layout
    values = dict(zip(columns, row, strict=True))
    document = values.pop(lay.document, None) if lay.document else None
    point_id = str(values.pop(lay.id))
    metadata: dict[str, Any] = {}
    if lay.metadata:
        held = values.pop(lay.metadata, None)
        metadata.update({k: _plain(v) for k, v in values.items()})
        if isinstance(held, Mapping):
            metadata.update(held)
    else:
        metadata.update({k: _plain(v) for k, v in values.items()})
    return Point(
        id=point_id,
        document=None if document is None else str(document),
        metadata=metadata,
    )


def _any(parts: list[sql.Composable]) -> sql.Composable:
    if not parts:
        return sql.SQL("FALSE")
    return sql.SQL(" OR ").join(parts)


def _plain(value: Any) -> Any:
    """A column value as JSON can hold it (the access package is JSON)."""
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)
