"""The sql kind's config as JSON Schema (draft 2020-12), for the API and forms.

It describes the shape `config` documents; `validation` stays the authority
(relations between tables, a strategy for every identity column, no password
in the DSN are rules a schema cannot say) and names the bad path.
"""

from __future__ import annotations

from typing import Any

from connectors.base import JSON_SCHEMA_DIALECT
from connectors.data_points import KINDS as DATA_POINT_KINDS
from connectors.kinds.sql.config import (
    FIELD_STRATEGIES,
    IDENTIFIER,
    ROW_STRATEGIES,
    SCHEMES,
)

NAME: dict[str, Any] = {"type": "string", "pattern": f"^{IDENTIFIER.pattern}$"}
TEXT: dict[str, Any] = {"type": "string"}


def _identity_column() -> dict[str, Any]:
    one = {
        "oneOf": [
            {"$ref": "#/$defs/name"},
            {
                "type": "object",
                "properties": {
                    "column": {"$ref": "#/$defs/name"},
                    "system": TEXT,
                    "exact": {
                        "type": "boolean",
                        "default": False,
                        "description": "Match the column as written (its "
                        "ordinary index serves it): the store writes this "
                        "identifier in one case / as digits, or the column "
                        "compares without case (citext, a *_ci collation). "
                        "Otherwise e-mails match lower(column) and phones "
                        "their digits.",
                    },
                },
                "required": ["column"],
                "additionalProperties": False,
            },
        ]
    }
    return {"oneOf": [one, {"type": "array", "items": one}]}


def _field_rule() -> dict[str, Any]:
    strategy = {"enum": list(FIELD_STRATEGIES)}
    return {
        "oneOf": [
            strategy,
            {
                "type": "object",
                "properties": {
                    "strategy": strategy,
                    "basis": TEXT,
                    "reason": TEXT,
                    "value": {"type": "string", "minLength": 1},
                },
                "required": ["strategy"],
                "additionalProperties": False,
            },
        ]
    }


def _table() -> dict[str, Any]:
    name = {"$ref": "#/$defs/name"}
    return {
        "type": "object",
        "description": "One table: how the subject's rows are found and erased.",
        "properties": {
            "table": name,
            "key": {**NAME, "default": "id"},
            "category": TEXT,
            "identity": {
                "type": "object",
                "description": "Identifier kind -> the column(s) holding it.",
                "properties": {
                    kind: _identity_column()
                    for kind in ("email", "phone", "customer_id")
                },
                "additionalProperties": False,
                "minProperties": 1,
            },
            "parent": {
                "type": "object",
                "properties": {"table": name, "column": name, "references": name},
                "required": ["table", "column"],
                "additionalProperties": False,
            },
            "erase": {
                "oneOf": [
                    {"enum": list(ROW_STRATEGIES)},
                    {
                        "type": "object",
                        "description": "Column -> how erasure treats it.",
                        "propertyNames": name,
                        "additionalProperties": _field_rule(),
                    },
                ]
            },
            "basis": TEXT,
            "reason": TEXT,
            "name_column": name,
            "restrict_column": name,
            "objection_column": name,
            "rectify": {
                "type": "object",
                "description": "Request field -> column.",
                "additionalProperties": name,
            },
            "data_points": {
                "type": "object",
                "description": (
                    "Data points a requester may prove who they are with "
                    "(CCPA-REG §7062) -> the column holding each."
                ),
                "propertyNames": {"enum": list(DATA_POINT_KINDS)},
                "additionalProperties": name,
            },
        },
        "required": ["table", "erase"],
        "additionalProperties": False,
        "anyOf": [{"required": ["identity"]}, {"required": ["parent"]}],
    }


def config_schema() -> dict[str, Any]:
    """The JSON Schema of an sql connector's config."""
    schemes = "|".join(SCHEMES)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "SQL database",
        "type": "object",
        "properties": {
            "dsn": {
                "type": "string",
                "description": "The database URL, without a password.",
                "pattern": f"^({schemes})://",
            },
            "tables": {
                "type": "array",
                "description": "The map of tables: how the subject's rows are "
                "found (identity, or a parent row) and erased, per field.",
                "minItems": 1,
                "items": {"$ref": "#/$defs/table"},
                "examples": [
                    [
                        {
                            "table": "customers",
                            "key": "id",
                            "identity": {"email": "email"},
                            "erase": {"email": "hash", "name": "null"},
                        },
                        {
                            "table": "tickets",
                            "key": "id",
                            "parent": {"table": "customers", "column": "customer_id"},
                            "erase": {"subject": "redact_pii"},
                        },
                    ]
                ],
            },
            "batch_size": {
                "type": "integer",
                "minimum": 10,
                "maximum": 100_000,
                "default": 1000,
            },
            "connect_timeout": {
                "type": "integer",
                "minimum": 1,
                "maximum": 300,
                "default": 10,
            },
            "prepared_statements": {"type": "boolean", "default": True},
            "conversations": {
                "type": "string",
                "title": "Conversations table",
                "description": "A table of the map whose keys are the subject's "
                "conversation ids, for a vector store that links here",
                "maxLength": 63,
            },
        },
        "required": ["dsn", "tables"],
        "additionalProperties": False,
        "$defs": {"name": NAME, "table": _table()},
    }
