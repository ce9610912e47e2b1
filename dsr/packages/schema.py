"""The JSON Schema of `data.json` in an access package (shipped as schema.json).

Version 1. A consumer can validate the file with any JSON Schema 2020-12
validator; new optional keys may appear within v1, a breaking change gets v2.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://privacydesk.example/schemas/access-package/v1"

_TEXT = {"type": "string"}
# How the CSV copy lays a record out (dsr.packages.flatten); index.html says
# the same in words.
CSV_RULE = (
    "Path of the same records as CSV, flat: a nested object becomes dotted "
    "columns (customer.email); a list of plain values one cell, joined with "
    "'; '; a list of objects one row per element, the record's other columns "
    "repeated and the element's keys as columns (messages.role, "
    "messages.text), two such lists side by side; a text holding a JSON "
    "object (or a list of objects) is read as that JSON. data.json keeps "
    "each record exactly as stored."
)
_TEXTS = {"type": "array", "items": _TEXT}

DATA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Personal data export (access package data.json)",
    "description": (
        "A copy of the personal data a controller holds about one person, "
        "grouped by the system (store) it was found in. Each record keeps the "
        "store's own field names and values."
    ),
    "type": "object",
    "required": ["schema", "export", "request", "subject", "stores"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "export": {
            "type": "object",
            "description": "What this export is and which law it answers.",
            "required": ["type", "legal_basis", "machine_readable", "categories"],
            "properties": {
                "type": {"enum": ["access", "portability"]},
                "legal_basis": {
                    **_TEXT,
                    "description": "e.g. 'GDPR Art. 15' or 'GDPR Art. 20'",
                },
                "machine_readable": {"type": "boolean"},
                "categories": {
                    "description": (
                        "'all', or the record categories included because they "
                        "hold data the person provided (portability)."
                    ),
                    "oneOf": [{"const": "all"}, _TEXTS],
                },
            },
        },
        "request": {
            "type": "object",
            "required": ["reference", "kind", "regime", "received_at", "generated_at"],
            "properties": {
                "reference": {**_TEXT, "description": "e.g. DSR-2026-000123"},
                "kind": {"enum": ["access", "portability"]},
                "regime": {"enum": ["gdpr", "uk_gdpr", "ccpa"]},
                "received_at": {**_TEXT, "format": "date-time"},
                "generated_at": {**_TEXT, "format": "date-time"},
            },
        },
        "subject": {
            "type": "object",
            "required": ["pseudonym"],
            "properties": {
                "pseudonym": {
                    **_TEXT,
                    "description": "The controller's reference for the person.",
                }
            },
        },
        "stores": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["connector", "status", "categories", "tables", "records"],
                "properties": {
                    "connector": {**_TEXT, "description": "The store's name."},
                    "title": {
                        **_TEXT,
                        "description": "The store as a person reads it, e.g. "
                        "'Support helpdesk'.",
                    },
                    "category_names": {
                        "type": "object",
                        "additionalProperties": _TEXT,
                        "description": "Each of 'categories' as a person reads it.",
                    },
                    "status": {
                        "enum": ["searched", "exempted", "incomplete"],
                        "description": (
                            "'exempted': the store was not searched or its data "
                            "is withheld; see 'withheld' for the legal basis. "
                            "'incomplete': the store could not be searched."
                        ),
                    },
                    "categories": _TEXTS,
                    "tables": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["location", "records", "csv"],
                            "properties": {
                                "location": _TEXT,
                                "records": {"type": "integer", "minimum": 0},
                                "csv": {
                                    **_TEXT,
                                    "description": CSV_RULE,
                                },
                            },
                        },
                    },
                    "withheld": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["basis", "reason"],
                            "properties": {
                                "location": _TEXT,
                                "fields": _TEXTS,
                                "basis": _TEXT,
                                "reason": _TEXT,
                                "count": {"type": "integer", "minimum": 0},
                            },
                        },
                    },
                    "records": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["location", "key", "category", "data"],
                            "properties": {
                                "location": {
                                    **_TEXT,
                                    "description": "Table, file or object name.",
                                },
                                "key": {
                                    **_TEXT,
                                    "description": "The record's key in that place.",
                                },
                                "category": _TEXT,
                                "data": {
                                    "type": "object",
                                    "description": "Field name -> value, as stored.",
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

# schema.json as shipped: serialised once per process, not once per package.
DATA_SCHEMA_JSON: bytes = json.dumps(DATA_SCHEMA, indent=2, ensure_ascii=False).encode()
