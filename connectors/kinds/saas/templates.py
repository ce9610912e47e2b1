"""Fill a definition's templates: `{config.subdomain}`, `{value}`, `{id}`,
`{user.id}`. A placeholder the context lacks is a definition bug, refused
for good; values put in a URL path are percent-encoded.

A placeholder may name a filter: `{value|soql}` writes the value escaped
for a quoted string literal of a query language (Salesforce's SOQL), so a
subject's e-mail never changes the query it is put in; `{ids|soql_list}`
writes a list of values as quoted literals separated by commas (for
`Id IN (...)`); `{value|sha256}` writes the hex SHA-256 digest of the
value (an e-mail a support bot attached to a model provider's record as
its digest, never in the clear). The filters are in FILTERS.

A query parameter's name may hold a placeholder too: OpenAI's metadata
filter `metadata[{config.email_key}]` names the key the bot wrote."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from connectors.base import ConnectorError

PLACEHOLDER = re.compile(
    r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)(?:\|([a-z_][a-z0-9_]*))?\}"
)

# SOQL's escape sequences in a quoted string: backslash first.
# Source: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def soql(value: Any) -> str:
    """`value` as the inside of a SOQL quoted string literal."""
    return "".join(_SOQL_ESCAPES.get(ch, ch) for ch in str(value))


def soql_list(value: Any) -> str:
    """A list of values as SOQL quoted literals, comma separated."""
    values = value if isinstance(value, list | tuple) else [value]
    return ", ".join(f"'{soql(item)}'" for item in values)


def sha256(value: Any) -> str:
    """The hex SHA-256 digest of the value's UTF-8 text."""
    return hashlib.sha256(str(value).encode()).hexdigest()


FILTERS: dict[str, Callable[[Any], str]] = {
    "soql": soql,
    "soql_list": soql_list,
    "sha256": sha256,
}


def render(template: str, context: Mapping[str, Any], *, in_path: bool = False) -> str:
    def fill(match: re.Match[str]) -> str:
        name, applied = match.group(1), match.group(2)
        if name not in context or context[name] is None:
            raise ConnectorError(
                f"definition placeholder {{{name}}} has no value here", permanent=True
            )
        if applied is not None and applied not in FILTERS:
            raise ConnectorError(
                f"definition placeholder {{{name}|{applied}}}: no filter {applied!r}",
                permanent=True,
            )
        value = FILTERS[applied](context[name]) if applied else str(context[name])
        return quote(value, safe="") if in_path else value

    return PLACEHOLDER.sub(fill, template)


def render_all(
    templates: Mapping[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    """Each template filled; one that is a single placeholder keeps the
    value's own JSON type (an id stays a number in a body). A key holding a
    placeholder is filled too (`metadata[{config.email_key}]`)."""
    filled: dict[str, Any] = {}
    for key, value in templates.items():
        key = render(key, context) if "{" in key else key
        whole = PLACEHOLDER.fullmatch(str(value))
        if whole and not whole.group(2) and context.get(whole.group(1)) is not None:
            filled[key] = context[whole.group(1)]
        else:
            filled[key] = render(str(value), context)
    return filled


def render_tree(template: Any, context: Mapping[str, Any]) -> Any:
    """A JSON template (a search body) filled: objects and lists walked,
    strings as in `render_all` (a lone placeholder keeps its value's type)."""
    if isinstance(template, Mapping):
        return {key: render_tree(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [render_tree(value, context) for value in template]
    if isinstance(template, str):
        return render_all({"": template}, context)[""]
    return template


def put(document: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of a JSON object, making the objects
    on the way (`pagination.starting_after`)."""
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def record_context(prefix: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """`{prefix.field}` for every plain field of a record."""
    return {
        f"{prefix}.{key}": value
        for key, value in record.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }


def dig(document: Any, path: str) -> Any:
    """The value at a dotted path (`links.next`) of a JSON document, or None."""
    node = document
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def values_at(document: Any, path: str) -> list[Any]:
    """The values at a dotted path whose `[]` parts step into every item of
    a list: `_embedded.emails[].value` (Help Scout's e-mails of a customer)."""
    nodes: list[Any] = [document]
    for part in path.split("."):
        many = part.endswith("[]")
        name = part.removesuffix("[]")
        found = [n.get(name) for n in nodes if isinstance(n, Mapping)]
        if many:
            found = [item for n in found if isinstance(n, list) for item in n]
        nodes = [n for n in found if n is not None]
    return nodes
