"""The common part of a vector-store kind's config: its JSON Schema and its
validation (errors name the path, e.g. `config.keys.email`); each engine
adds its own keys (`VectorStoreKind.engine_config_schema`,
`clean_engine_config`), with the pieces engines share below: a server by
`url` or an embedded store by `path`, the key holding the document text,
and whole-number settings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors.base import JSON_SCHEMA_DIALECT, ConfigError
from connectors.kinds.files.config import clean_folder
from connectors.kinds.outbound import check_base_url

KEY_KINDS = ("subject_id", "email", "conversation_id", "phone")
COMMON_KEYS = ("collections", "keys", "subject_id_system", "link", "category")
MAX_COLLECTIONS = 50
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}")
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")  # a Connector.name
_HTTP = re.compile(r"^https?://")


def common_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The config's JSON Schema: the engine's `properties` and the common ones."""
    name = {"type": "string", "pattern": f"^{_NAME.pattern}$"}
    key = {"type": "string", "pattern": f"^{_KEY.pattern}$"}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "additionalProperties": False,
        "required": ["collections", "keys", *required],
        "properties": {
            **properties,
            "collections": {
                "type": "array",
                "title": "Collections",
                "description": "The collections holding conversation embeddings",
                "items": name,
                "minItems": 1,
                "maxItems": MAX_COLLECTIONS,
                "uniqueItems": True,
            },
            "keys": {
                "type": "object",
                "title": "Metadata keys",
                "description": "The metadata key holding each identifier",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {kind: key for kind in KEY_KINDS},
            },
            "subject_id_system": {
                "type": "string",
                "title": "Customer-id system",
                "description": "Match only the customer ids of this system",
                "maxLength": 60,
            },
            "link": {
                "type": "string",
                "title": "Linked connector",
                "description": "A connector whose conversation ids of the "
                "subject are matched on the conversation_id key",
                "pattern": f"^{_SLUG.pattern}$",
            },
            "category": {"type": "string", "maxLength": 60},
        },
    }


def clean_common(config: dict[str, Any], *, known: tuple[str, ...]) -> dict[str, Any]:
    """The common keys of `config`, cleaned; `known`: every key the kind takes."""
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}; known: {', '.join(known)}",
            field=f"config.{unknown[0]}",
        )
    cleaned: dict[str, Any] = {
        "collections": _clean_collections(config.get("collections")),
        "keys": _clean_keys(config.get("keys")),
    }
    for optional, pattern in (("subject_id_system", None), ("link", _SLUG)):
        if optional in config:
            cleaned[optional] = _clean_text(
                config[optional], field=f"config.{optional}", pattern=pattern
            )
    if "link" in cleaned and "conversation_id" not in cleaned["keys"]:
        raise ConfigError(
            "a link needs the metadata key of conversation ids",
            field="config.keys.conversation_id",
        )
    if "category" in config:
        cleaned["category"] = _clean_text(
            config["category"], field="config.category", pattern=None
        )
    return cleaned


def _clean_collections(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            "must be a list of one or more collection names", field="config.collections"
        )
    if len(value) > MAX_COLLECTIONS:
        raise ConfigError(
            f"at most {MAX_COLLECTIONS} collections", field="config.collections"
        )
    names: list[str] = []
    for index, name in enumerate(value):
        field = f"config.collections[{index}]"
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(
                "must be a collection name: letters, digits, _ . : -", field=field
            )
        if name in names:
            raise ConfigError(f"{name!r} is listed twice", field=field)
        names.append(name)
    return names


def _clean_keys(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(
            f"must name the metadata key of at least one of {', '.join(KEY_KINDS)}",
            field="config.keys",
        )
    keys: dict[str, str] = {}
    for kind, key in value.items():
        field = f"config.keys.{kind}"
        if kind not in KEY_KINDS:
            raise ConfigError(
                f"unknown identifier {kind!r}; one of {', '.join(KEY_KINDS)}",
                field=field,
            )
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ConfigError(
                "must be a metadata key: letters, digits, _ . -", field=field
            )
        keys[kind] = key
    return keys


def _clean_text(value: Any, *, field: str, pattern: re.Pattern[str] | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("must be non-empty text", field=field)
    text = value.strip()
    if pattern is not None and not pattern.fullmatch(text):
        raise ConfigError(f"must match {pattern.pattern}", field=field)
    if len(text) > 60:
        raise ConfigError("at most 60 characters", field=field)
    return text


# -- pieces an engine's own keys share --------------------------------------------


def url_property(title: str, description: str) -> dict[str, Any]:
    """The schema of a server's `url`."""
    return {
        "type": "string",
        "title": title,
        "description": description,
        "pattern": _HTTP.pattern,
        "maxLength": 500,
    }


def path_property(description: str) -> dict[str, Any]:
    """The schema of an embedded store's folder, `path`."""
    return {
        "type": "string",
        "title": "Embedded store folder",
        "description": description,
        "pattern": "^/",
        "maxLength": 500,
    }


def document_key_property(title: str, description: str) -> dict[str, Any]:
    """The schema of the key holding a point's document text."""
    return {
        "type": "string",
        "title": title,
        "description": description,
        "maxLength": 200,
    }


def url_or_path_one_of() -> list[dict[str, Any]]:
    """The schema's `oneOf` of a kind taking a server `url` or an embedded
    store's `path`: exactly one of them."""
    return [{"required": ["url"]}, {"required": ["path"]}]


def clean_url_or_path(
    config: dict[str, Any], *, clean_url: Callable[[Any], str]
) -> dict[str, str]:
    """`{"url": ...}` cleaned by `clean_url`, or `{"path": ...}` an existing
    folder's absolute path: exactly one of them."""
    has_url, has_path = "url" in config, "path" in config
    if has_url == has_path:
        raise ConfigError(
            "give exactly one of url (a server) or path (an embedded store)",
            field="config.url",
        )
    if has_url:
        return {"url": clean_url(config["url"])}
    return {"path": clean_folder(config["path"], field="config.path")}


def clean_server_url(value: Any) -> str:
    """`config.url`: an http(s) URL by the outbound rule (https, plain http
    only to this machine, no credentials or query), without its final /."""
    if not isinstance(value, str) or not _HTTP.match(value):
        raise ConfigError("must be an http(s) URL", field="config.url")
    check_base_url(value, field="config.url")
    return value.rstrip("/")


def clean_document_key(config: dict[str, Any], *, default: str, what: str) -> str:
    """`config.document_key` (`default` when absent); `what` names it in
    the error, e.g. "a payload key"."""
    value = config.get("document_key", default)
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise ConfigError(
            f"must be {what}, e.g. {default}", field="config.document_key"
        )
    return value


def clean_whole_numbers(
    config: dict[str, Any], limits: tuple[tuple[str, int, int], ...]
) -> dict[str, int]:
    """Each (key, default, top) of `limits`: a whole number from 1 to top."""
    cleaned: dict[str, int] = {}
    for key, default, top in limits:
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError("must be a whole number", field=f"config.{key}")
        if not 1 <= value <= top:
            raise ConfigError(f"must be 1 to {top}", field=f"config.{key}")
        cleaned[key] = value
    return cleaned
