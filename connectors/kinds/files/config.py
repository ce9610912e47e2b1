"""The files kind's config: field paths into a conversation, and validation.

A path is dotted keys; `name[]` steps into every element of a list, so
`messages[].text` is the text of every message. Keys holding a dot or
brackets cannot be addressed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from connectors.base import JSON_SCHEMA_DIALECT, ConfigError

IDENTIFIER_KINDS = ("email", "phone", "customer_id")
ERASE_MODES = ("delete", "redact_pii")
CONFIG_KEYS = (
    "folder",
    "pattern",
    "identity",
    "text_fields",
    "erase",
    "id_field",
    "category",
)
_SEGMENT = re.compile(r"^([A-Za-z0-9_-]+)(\[\])?$")
_SYSTEM = re.compile(r"[a-z0-9_.-]{0,50}")


@dataclass(frozen=True)
class FieldPath:
    """A parsed `customer.email` / `messages[].text` path."""

    text: str
    segments: tuple[tuple[str, bool], ...]  # (key, steps into a list)

    @classmethod
    def parse(cls, value: Any, *, field: str) -> FieldPath:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                "must be a field path like customer.email or messages[].text",
                field=field,
            )
        segments: list[tuple[str, bool]] = []
        for part in value.strip().split("."):
            match = _SEGMENT.match(part)
            if not match:
                raise ConfigError(
                    f"bad path segment {part!r}: use letters, digits, _ or -, "
                    "optionally followed by [] for a list",
                    field=field,
                )
            segments.append((match.group(1), bool(match.group(2))))
        return cls(text=value.strip(), segments=tuple(segments))

    def locate(self, document: Any) -> Iterator[tuple[Any, Any]]:
        """Every (container, key) this path reaches; missing parts yield nothing."""
        yield from _walk(document, self.segments)

    def values(self, document: Any) -> Iterator[Any]:
        for container, key in self.locate(document):
            yield container[key]


def _walk(node: Any, segments: tuple[tuple[str, bool], ...]) -> Iterator[Any]:
    (key, many), rest = segments[0], segments[1:]
    if not isinstance(node, dict) or key not in node:
        return
    if not many:
        if rest:
            yield from _walk(node[key], rest)
        else:
            yield node, key
        return
    items = node[key]
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if rest:
            yield from _walk(item, rest)
        else:
            yield items, index


@dataclass(frozen=True)
class IdentityField:
    """Where one kind of identifier sits in a conversation."""

    kind: str  # email | phone | customer_id
    path: FieldPath
    system: str = ""  # customer ids: the namespace; "" matches any


# --- validation ----------------------------------------------------------------------


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """The cleaned config with its defaults spelled out; errors name the path."""
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}; known: {', '.join(CONFIG_KEYS)}",
            field=f"config.{unknown[0]}",
        )
    cleaned: dict[str, Any] = {
        "folder": clean_folder(config.get("folder")),
        "pattern": _clean_pattern(config.get("pattern", "*.jsonl")),
        "identity": _clean_identity(config.get("identity")),
    }
    text_fields = config.get("text_fields", [])
    if not isinstance(text_fields, list):
        raise ConfigError("must be a list of field paths", field="config.text_fields")
    cleaned["text_fields"] = [
        FieldPath.parse(path, field=f"config.text_fields[{index}]").text
        for index, path in enumerate(text_fields)
    ]
    erase = config.get("erase", "delete")
    if erase not in ERASE_MODES:
        raise ConfigError(
            f"must be one of {', '.join(ERASE_MODES)}", field="config.erase"
        )
    cleaned["erase"] = erase
    cleaned["id_field"] = FieldPath.parse(
        config.get("id_field", "id"), field="config.id_field"
    ).text
    category = config.get("category", "ai_conversation")
    if not isinstance(category, str) or not 0 < len(category.strip()) <= 50:
        raise ConfigError(
            "must be a short name like ai_conversation", field="config.category"
        )
    cleaned["category"] = category.strip()
    return cleaned


def clean_folder(folder: Any, *, field: str = "config.folder") -> str:
    """An absolute path on this host that connectors may use (inside
    CONNECTOR_FILES_ROOTS when set); ConfigError names `field`."""
    if not isinstance(folder, str) or not folder.strip():
        raise ConfigError("is required: the folder's path", field=field)
    path = Path(folder.strip())
    if not path.is_absolute() or ".." in path.parts:
        raise ConfigError("must be an absolute path without ..", field=field)
    # Whoever may write connectors must not point one at any folder of the host.
    roots = getattr(settings, "CONNECTOR_FILES_ROOTS", None)
    if roots and not any(path.is_relative_to(Path(root)) for root in roots):
        raise ConfigError(
            "must be inside one of the folders allowed by CONNECTOR_FILES_ROOTS",
            field=field,
        )
    return str(path)


def _clean_pattern(pattern: Any) -> str:
    if (
        not isinstance(pattern, str)
        or not pattern.strip()
        or len(pattern) > 100
        or any(ch in pattern for ch in "/\\\0")
        or pattern.startswith(".")
    ):
        raise ConfigError(
            "must be a file name pattern like *.jsonl (no folders, not hidden)",
            field="config.pattern",
        )
    return pattern.strip()


def _clean_identity(identity: Any) -> dict[str, Any]:
    base = "config.identity"
    if not isinstance(identity, dict) or not identity:
        raise ConfigError(
            "must map email, phone or customer_id to field paths, e.g. "
            '{"email": "customer.email"}',
            field=base,
        )
    unknown = sorted(set(identity) - set(IDENTIFIER_KINDS))
    if unknown:
        raise ConfigError(
            f"unknown identifier {unknown[0]!r}; use email, phone or customer_id",
            field=f"{base}.{unknown[0]}",
        )
    cleaned: dict[str, Any] = {}
    for kind in IDENTIFIER_KINDS:
        if kind not in identity:
            continue
        clean_one = _clean_customer_id if kind == "customer_id" else _clean_path
        value = identity[kind]
        if isinstance(value, list):
            if not value:
                raise ConfigError("give at least one path", field=f"{base}.{kind}")
            cleaned[kind] = [
                clean_one(item, field=f"{base}.{kind}[{index}]")
                for index, item in enumerate(value)
            ]
        else:
            cleaned[kind] = clean_one(value, field=f"{base}.{kind}")
    return cleaned


def _clean_path(value: Any, *, field: str) -> str:
    return FieldPath.parse(value, field=field).text


def _clean_customer_id(value: Any, *, field: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"path": _clean_path(value, field=field), "system": ""}
    if not isinstance(value, Mapping):
        raise ConfigError(
            'must be a path or {"path": "customer.id", "system": "crm"}', field=field
        )
    unknown = sorted(set(value) - {"path", "system"})
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}; use path and system",
            field=f"{field}.{unknown[0]}",
        )
    path = _clean_path(value.get("path"), field=f"{field}.path")
    system = value.get("system", "")
    if not isinstance(system, str) or not _SYSTEM.fullmatch(system):
        raise ConfigError(
            "must be a system name (a-z, 0-9, _ . -), e.g. crm", field=f"{field}.system"
        )
    return {"path": path, "system": system}


def identity_fields(identity: Mapping[str, Any]) -> list[IdentityField]:
    """The identity fields of a cleaned config."""
    fields: list[IdentityField] = []
    for kind in IDENTIFIER_KINDS:
        value = identity.get(kind)
        items = value if isinstance(value, list) else [value] if value else []
        for item in items:
            spec = item if isinstance(item, Mapping) else {"path": item}
            path = FieldPath.parse(spec["path"], field=f"config.identity.{kind}")
            fields.append(IdentityField(kind, path, str(spec.get("system", ""))))
    return fields


# --- JSON Schema ---------------------------------------------------------------------

PATH_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "A field path like customer.email or messages[].text.",
    "pattern": r"^[A-Za-z0-9_-]+(\[\])?(\.[A-Za-z0-9_-]+(\[\])?)*$",
}


def _one_or_more(item: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [item, {"type": "array", "minItems": 1, "items": item}]}


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a files connector's config (`clean_config` stays
    the authority: it also checks CONNECTOR_FILES_ROOTS)."""
    customer_id = {
        "oneOf": [
            PATH_SCHEMA,
            {
                "type": "object",
                "properties": {
                    "path": PATH_SCHEMA,
                    "system": {"type": "string", "pattern": f"^{_SYSTEM.pattern}$"},
                },
                "required": ["path"],
                "additionalProperties": False,
            },
        ]
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "Transcript files (JSON lines)",
        "type": "object",
        "properties": {
            "folder": {
                "type": "string",
                "description": "An absolute path, inside CONNECTOR_FILES_ROOTS.",
                "pattern": "^/",
            },
            "pattern": {
                "type": "string",
                "description": "A file name pattern (no folders, not hidden).",
                "pattern": r"^[^./\\][^/\\]*$",
                "maxLength": 100,
                "default": "*.jsonl",
            },
            "identity": {
                "type": "object",
                "description": "Identifier kind -> the field path(s) holding it.",
                "examples": [{"email": "customer.email"}],
                "properties": {
                    "email": _one_or_more(PATH_SCHEMA),
                    "phone": _one_or_more(PATH_SCHEMA),
                    "customer_id": _one_or_more(customer_id),
                },
                "minProperties": 1,
                "additionalProperties": False,
            },
            "text_fields": {"type": "array", "items": PATH_SCHEMA},
            "erase": {"enum": list(ERASE_MODES), "default": "delete"},
            "id_field": {**PATH_SCHEMA, "default": "id"},
            "category": {
                "type": "string",
                "minLength": 1,
                "maxLength": 50,
                "default": "ai_conversation",
            },
        },
        "required": ["folder", "identity"],
        "additionalProperties": False,
    }
