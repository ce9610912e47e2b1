"""The `pgvector` kind: embeddings in PostgreSQL tables with a `vector`
column, LangChain's PGVector layout by default, other layouts by a map.

    {"dsn": "postgresql://rag@db.internal/assistant",  # password: a secret
     "layout": "langchain",                 # the default; or "tables"
     "table": "langchain_pg_embedding",     # langchain: the defaults
     "collection_table": "langchain_pg_collection",
     "columns": {"id": "id", "document": "document", "metadata": "cmetadata",
                 "embedding": "embedding", "collection": "collection_id"},
     "collections": ["support_memory"],     # langchain: collection names
     "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
     "link": "helpdesk",                    # see vectors.base
     "page_size": 500, "connect_timeout": 10}

With "layout": "tables" each collection is a table (`schema.table` allowed)
with the columns `id`, `embedding` and, optionally, `document` and
`metadata` (a JSONB column; its keys are then the metadata keys). Without a
metadata column the keys name plain columns of the table. LangChain's older
layout (langchain_community: `uuid` as the key, `custom_id`) is
`"columns": {"id": "uuid"}`.

The password never goes in the DSN: it is the connector's secret
`password`. How rows are matched, read and deleted: `pgvector_engine`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.base import ConfigError, HealthReport
from connectors.kinds.sql.validation import clean_dsn
from connectors.kinds.vectors.base import VectorEngine, VectorStoreKind
from connectors.kinds.vectors.config import clean_whole_numbers
from connectors.kinds.vectors.pgvector_engine import PgvectorEngine
from connectors.kinds.vectors.pgvector_sql import (
    LANGCHAIN,
    TABLES,
    Layout,
)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
QUALIFIED = re.compile(rf"{IDENTIFIER.pattern}(\.{IDENTIFIER.pattern})?")
SCHEMES = ("postgresql", "postgres")
DEFAULT_TABLE = "langchain_pg_embedding"
DEFAULT_COLLECTION_TABLE = "langchain_pg_collection"
DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    LANGCHAIN: {
        "id": "id",
        "document": "document",
        "metadata": "cmetadata",
        "embedding": "embedding",
        "collection": "collection_id",
    },
    TABLES: {"id": "id", "document": "document", "embedding": "embedding"},
}
# Columns a map may leave out (null): the layout then has none.
OPTIONAL_COLUMNS = {LANGCHAIN: ("document",), TABLES: ("document", "metadata")}
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 10_000


class PgvectorConnector(VectorStoreKind):
    """Points in PostgreSQL tables with a pgvector `vector` column."""

    kind: ClassVar[str] = "pgvector"
    label: ClassVar[str] = "pgvector (PostgreSQL) vector store"
    secret_fields: ClassVar[tuple[str, ...]] = ("password",)
    engine_keys: ClassVar[tuple[str, ...]] = (
        "dsn",
        "layout",
        "table",
        "collection_table",
        "columns",
        "page_size",
        "connect_timeout",
    )

    @classmethod
    def engine_config_schema(cls) -> tuple[dict[str, Any], list[str]]:
        column = {"type": "string", "pattern": f"^{IDENTIFIER.pattern}$"}
        table = {"type": "string", "pattern": f"^{QUALIFIED.pattern}$"}
        properties = {
            "dsn": {
                "type": "string",
                "title": "Database URL",
                "description": "postgresql://user@host:5432/db (the password "
                "is the secret `password`)",
                "pattern": "^postgres(ql)?://",
                "maxLength": 500,
            },
            "layout": {
                "type": "string",
                "title": "Layout",
                "description": "langchain: LangChain's PGVector tables; tables: "
                "each collection is a table",
                "enum": [LANGCHAIN, TABLES],
                "default": LANGCHAIN,
            },
            # no "default" keyword: a form would fill it in for the tables
            # layout too, which takes neither
            "table": {
                **table,
                "title": "Embeddings table",
                "description": f"langchain layout; {DEFAULT_TABLE} when left out",
            },
            "collection_table": {
                **table,
                "title": "Collections table",
                "description": "langchain layout; "
                f"{DEFAULT_COLLECTION_TABLE} when left out",
            },
            "columns": {
                "type": "object",
                "title": "Columns",
                "description": "The columns of id, document, metadata (JSONB), "
                "embedding and, for langchain, the collection's uuid",
                "additionalProperties": False,
                "properties": {
                    "id": column,
                    "document": {"anyOf": [column, {"type": "null"}]},
                    "metadata": {"anyOf": [column, {"type": "null"}]},
                    "embedding": column,
                    "collection": column,
                },
            },
            "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "connect_timeout": {"type": "integer", "minimum": 1, "maximum": 300},
        }
        return properties, ["dsn"]

    @classmethod
    def clean_engine_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        dsn = clean_dsn(config.get("dsn"))
        if dsn.split("://", 1)[0].lower() not in SCHEMES:
            raise ConfigError(
                "must be a PostgreSQL URL: postgresql://user@host/db",
                field="config.dsn",
            )
        layout = config.get("layout", LANGCHAIN)
        if layout not in (LANGCHAIN, TABLES):
            raise ConfigError(f"must be {LANGCHAIN} or {TABLES}", field="config.layout")
        cleaned: dict[str, Any] = {"dsn": dsn, "layout": layout}
        for key, default in (
            ("table", DEFAULT_TABLE),
            ("collection_table", DEFAULT_COLLECTION_TABLE),
        ):
            if layout == TABLES:
                if key in config:
                    raise ConfigError(
                        "only for the langchain layout (with tables, each "
                        "collection is a table)",
                        field=f"config.{key}",
                    )
                continue
            cleaned[key] = _qualified(config.get(key, default), f"config.{key}")
        cleaned["columns"] = _columns(config.get("columns", {}), layout)
        return cleaned | clean_whole_numbers(
            config,
            (
                ("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                ("connect_timeout", 10, 300),
            ),
        )

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        cleaned = super().validate_config(config)
        if cleaned["layout"] == TABLES:
            for index, table in enumerate(cleaned["collections"]):
                _qualified(table, f"config.collections[{index}]")
            if not cleaned["columns"].get("metadata"):
                # no metadata column: the keys are the table's columns
                for kind, key in cleaned["keys"].items():
                    if not IDENTIFIER.fullmatch(key):
                        raise ConfigError(
                            "must be a column name (the layout has no metadata column)",
                            field=f"config.keys.{kind}",
                        )
        return cleaned

    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        return "rows deleted: the embedding, its document and metadata"

    def open_engine(self) -> VectorEngine:
        return PgvectorEngine(
            self.config["dsn"],
            password=str(self.secrets.get("password") or ""),
            timeout=self.config["connect_timeout"],
            layout=Layout.from_config(self.config),
        )

    def health(self) -> HealthReport:
        report = super().health()
        with self.engine() as engine:
            assert isinstance(engine, PgvectorEngine)
            warnings = engine.check(self.collection_names)
        return HealthReport(report.status, (*report.warnings, *warnings))


def _qualified(value: Any, field: str) -> str:
    if not isinstance(value, str) or not QUALIFIED.fullmatch(value):
        raise ConfigError(
            "must be a table name, or schema.table (letters, digits, _)", field=field
        )
    return value


def _columns(value: Any, layout: str) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise ConfigError("must be an object of column names", field="config.columns")
    defaults = DEFAULT_COLUMNS[layout]
    allowed = (*defaults, *OPTIONAL_COLUMNS[layout])
    known = list(dict.fromkeys(allowed))
    columns: dict[str, str | None] = dict(defaults)
    for role, column in value.items():
        field = f"config.columns.{role}"
        if role not in allowed:
            raise ConfigError(
                f"unknown column role {role!r}; known: {', '.join(known)}",
                field=field,
            )
        if column is None and role in OPTIONAL_COLUMNS[layout]:
            columns[role] = None
            continue
        if not isinstance(column, str) or not IDENTIFIER.fullmatch(column):
            raise ConfigError("must be a column name (letters, digits, _)", field=field)
        columns[role] = column
    return {role: column for role, column in columns.items() if column is not None}
