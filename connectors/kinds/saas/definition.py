"""Load and check SaaS definitions: one YAML file per service, shipped in
`definitions/`, validated against `schema.DEFINITION_SCHEMA` and cached per
process. A bad file gives a DefinitionError naming the file and the path
inside it (`records.comment.erase.marker`), never a half-working kind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from connectors.kinds.saas.schema import DEFINITION_SCHEMA
from connectors.kinds.saas.templates import FILTERS, PLACEHOLDER

FOLDER = Path(__file__).resolve().parent / "definitions"


class DefinitionError(ValueError):
    """A definition file is not a valid definition; says which and where."""


@dataclass(frozen=True)
class Definition:
    """One checked definition: the document, and its record types in the
    order they are reached (the root found by identifiers first)."""

    document: dict[str, Any]
    order: tuple[str, ...]

    @property
    def service(self) -> str:
        return str(self.document["service"])

    @property
    def label(self) -> str:
        return str(self.document["label"])

    @property
    def root(self) -> str:
        return self.order[0]

    def record(self, name: str) -> dict[str, Any]:
        record: dict[str, Any] = self.document["records"][name]
        return record

    def children(self, name: str) -> tuple[str, ...]:
        return tuple(
            child for child in self.order if self.record(child).get("parent") == name
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self.document["auth"]["secrets"])

    @property
    def config_fields(self) -> dict[str, dict[str, Any]]:
        fields = self.document.get("config", {})
        return {k: v for k, v in fields.items() if k != "required"}

    @property
    def required_config(self) -> tuple[str, ...]:
        return tuple(self.document.get("config", {}).get("required", ()))


def services() -> tuple[str, ...]:
    """The services that have a definition file (read without parsing it)."""
    return tuple(sorted(path.stem for path in FOLDER.glob("*.yaml")))


@cache
def definition(service: str) -> Definition:
    """The checked definition of `service`, parsed once per process."""
    path = FOLDER / f"{service}.yaml"
    if not path.is_file():
        raise DefinitionError(f"no definition for {service!r}")
    return parse(path.read_text(encoding="utf-8"), source=path.name)


def parse(text: str, *, source: str) -> Definition:
    """Check one definition document; DefinitionError names source and path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{source}: not YAML ({error})") from None
    validator = jsonschema.Draft202012Validator(DEFINITION_SCHEMA)
    problem = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if problem is not None:
        where = ".".join(str(part) for part in problem.absolute_path) or "(top)"
        raise DefinitionError(f"{source}: {where}: {problem.message}")
    _check_templates(document, source, "")
    _check_usage(document, source)
    _check_oauth2(document["auth"], source)
    return Definition(document=document, order=_order(document, source))


def _check_templates(node: Any, source: str, where: str) -> None:
    """Every `{placeholder|filter}` names a filter the engine has."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_templates(value, source, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_templates(value, source, f"{where}.{index}")
    elif isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            if match.group(2) and match.group(2) not in FILTERS:
                raise DefinitionError(
                    f"{source}: {where}: no template filter {match.group(2)!r} "
                    f"(known: {', '.join(sorted(FILTERS))})"
                )


def _check_usage(document: dict[str, Any], source: str) -> None:
    pattern = document["rate_limit"].get("usage_pattern")
    if pattern is None:
        return
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise DefinitionError(
            f"{source}: rate_limit.usage_pattern: not a pattern ({error})"
        ) from None
    if groups != 2:
        raise DefinitionError(
            f"{source}: rate_limit.usage_pattern: needs two groups (used, allowed)"
        )


OAUTH2_SECRETS = {
    "client_credentials": ("client_id", "client_secret"),
    "refresh_token": ("client_id", "client_secret", "refresh_token"),
}


def _check_oauth2(auth: dict[str, Any], source: str) -> None:
    """An OAuth2 definition's secrets are exactly what its grant sends."""
    if auth["type"] != "oauth2":
        return
    wanted = OAUTH2_SECRETS[auth["grant"]]
    if sorted(auth["secrets"]) != sorted(wanted):
        raise DefinitionError(
            f"{source}: auth.secrets: the {auth['grant']} grant takes "
            f"{', '.join(wanted)}"
        )


def _order(document: dict[str, Any], source: str) -> tuple[str, ...]:
    records: dict[str, dict[str, Any]] = document["records"]
    roots = [name for name, record in records.items() if "find" in record]
    if len(roots) != 1:
        raise DefinitionError(
            f"{source}: records: exactly one record type is found by identifiers "
            f"(has find); found {len(roots)}"
        )
    order = [roots[0]]
    pending = [name for name in records if name != roots[0]]
    while pending:
        ready = [name for name in pending if records[name].get("parent") in order]
        if not ready:
            name = pending[0]
            raise DefinitionError(
                f"{source}: records.{name}.parent: "
                f"{records[name].get('parent')!r} is not a record type reached "
                "from the root"
            )
        order.extend(ready)
        pending = [name for name in pending if name not in ready]
    for name, record in records.items():
        erase = record["erase"]
        parent = erase.get("equals_parent")
        if parent is not None and parent not in _ancestors(records, name):
            raise DefinitionError(
                f"{source}: records.{name}.erase.equals_parent: {parent!r} is "
                "not an ancestor of this record type"
            )
    return tuple(order)


def _ancestors(records: dict[str, dict[str, Any]], name: str) -> list[str]:
    found: list[str] = []
    parent = records[name].get("parent")
    while parent is not None and parent not in found:
        found.append(parent)
        parent = records.get(parent, {}).get("parent")
    return found
