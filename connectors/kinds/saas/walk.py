"""Reach the subject's records as a definition says: find the root record by
each identifier, then list each child type under its parent (user ->
tickets -> comments), page by page. Everything is streamed: only the path
from the root to the current record is held."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import ConnectorError, Identity
from connectors.kinds.saas.client import Client
from connectors.kinds.saas.definition import Definition
from connectors.kinds.saas.templates import (
    dig,
    put,
    record_context,
    render,
    render_all,
    render_tree,
    values_at,
)

MAX_PAGES = 10_000
DEFAULT_PAGE_SIZE = 100
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


# The record types whose keys are conversation ids (`Walker.keys_of`, for a
# vector store linking to this service): its tickets.
CONVERSATION_CATEGORY = "support_ticket"


def conversation_types(definition: Definition) -> frozenset[str]:
    """The definition's record types that are conversations (tickets)."""
    return frozenset(
        name
        for name, record in definition.document["records"].items()
        if record.get("category") == CONVERSATION_CATEGORY
    )


@dataclass(frozen=True)
class Found:
    """One record reached, with the template context of its path."""

    type: str
    record: Mapping[str, Any]
    context: Mapping[str, Any]

    @property
    def key(self) -> str:
        return str(self.context["id"])


class Walker:
    def __init__(
        self,
        client: Client,
        definition: Definition,
        base: Mapping[str, Any],
        *,
        page_size: int | None = None,
    ) -> None:
        self.client = client
        self.definition = definition
        self.base = dict(base)
        self.page_size = page_size  # instead of each request's own size

    # -- the root, by identifiers ---------------------------------------------
    def roots(self, identity: Identity) -> Iterator[Found]:
        """Every root record matching one of the identifiers, once each."""
        name = self.definition.root
        record_type = self.definition.record(name)
        seen: set[str] = set()
        for find in record_type["find"]:
            for value in identity.values(find["identifier"]):
                value = normalized(value, find.get("normalize"))
                context = {**self.base, "value": value}
                label = f"{find['path']} ({find['identifier']})"
                for item in self.pages(find, context, label=label):
                    if "match" in find and not any(
                        _same(find["identifier"], stored, value)
                        for stored in values_at(item, find["match"])
                    ):
                        continue
                    found = self.found(name, item, self.base)
                    if found.key not in seen:
                        seen.add(found.key)
                        yield found

    def tree(self, identity: Identity) -> Iterator[Found]:
        """The roots and every record under them, parents first."""
        for root in self.roots(identity):
            yield root
            yield from self.below(root)

    def keys_of(self, identity: Identity, types: frozenset[str]) -> list[str]:
        """The keys of the subject's records of `types`, each once, walked
        down to them and not below (a ticket's comments are not listed)."""
        keys: dict[str, None] = {}

        def visit(found: Found) -> None:
            if found.type in types:
                keys[found.key] = None
                return
            for child in self.definition.children(found.type):
                for item in self.children(child, found.context):
                    visit(item)

        for root in self.roots(identity):
            visit(root)
        return list(keys)

    def below(self, parent: Found) -> Iterator[Found]:
        for child in self.definition.children(parent.type):
            for found in self.children(child, parent.context):
                yield found
                yield from self.below(found)

    def children(self, name: str, parent_context: Mapping[str, Any]) -> Iterator[Found]:
        request = self.definition.record(name)["list"]
        for item in self.pages(request, parent_context, label=request["path"]):
            yield self.found(name, item, parent_context)

    def found(
        self, name: str, item: Mapping[str, Any], parent: Mapping[str, Any]
    ) -> Found:
        key_field = self.definition.record(name)["key"]
        if item.get(key_field) is None:
            raise ConnectorError(
                f"{self.client.name}: a {name} record has no {key_field}",
                permanent=True,
            )
        context = {
            **{k: v for k, v in parent.items() if k != "id"},
            **record_context(name, item),
            "id": item[key_field],
        }
        return Found(name, item, context)

    # -- pages ------------------------------------------------------------------
    def pages(
        self, request: Mapping[str, Any], context: Mapping[str, Any], *, label: str
    ) -> Iterator[Mapping[str, Any]]:
        """Every item of a list request, following its pagination."""
        pagination = request.get("pagination", {"type": "none"})
        kind = pagination["type"]
        params = {
            k: str(v) for k, v in render_all(request.get("params", {}), context).items()
        }
        size = pagination.get("size", DEFAULT_PAGE_SIZE)
        size = min(size, self.page_size or size)  # a config may ask less
        body = render_tree(request["body"], context) if "body" in request else None
        if kind == "cursor":
            params[pagination.get("size_param", "page[size]")] = str(size)
        if kind in ("token", "page", "next_url") and "size_param" in pagination:
            self._put(params, body, pagination["size_param"], size)
        # a page shorter than the size asked is the last one
        known_size = size if "size_param" in pagination else None
        target: str | None = render(request["path"], context, in_path=True)
        number = 1 if kind == "page" else 0
        for _ in range(MAX_PAGES):
            if target is None:
                return
            if kind in ("page", "offset"):
                params[pagination.get("param", kind)] = str(number)
            answer = self.client.call(
                request.get("method", "GET"),
                target,
                label=label,
                params=params,
                body=body,
            )
            if answer.status == 404:
                return  # the parent is gone: nothing under it
            items = _items(answer.document, request.get("select", ""))
            yield from items
            if kind == "token":
                token = dig(answer.document, pagination.get("next", ""))
                more = dig(answer.document, pagination.get("has_more", "")) or (
                    "has_more" not in pagination
                )
                if not token or not items or not more:
                    return
                where = pagination.get("param", "starting_after")
                self._put(params, body, where, token)
                continue
            if kind == "page" and known_size and len(items) < known_size:
                return
            target, number = self._next(
                pagination, answer.document, answer.headers, target, number, items
            )
            if target is not None and kind in ("cursor", "next_url", "link"):
                params = {}  # the next URL carries them
        raise ConnectorError(
            f"{self.client.name}: more than {MAX_PAGES} pages of {label}",
            permanent=True,
        )

    @staticmethod
    def _put(params: dict[str, str], body: Any, where: str, value: Any) -> None:
        """A page token or size: into the body of a search, else the query."""
        if isinstance(body, dict):
            put(body, where, value)
        else:
            params[where] = str(value)

    @staticmethod
    def _next(
        pagination: Mapping[str, Any],
        document: Any,
        headers: Mapping[str, str],
        target: str,
        number: int,
        items: list[Mapping[str, Any]],
    ) -> tuple[str | None, int]:
        kind = pagination["type"]
        if kind == "cursor":
            more = dig(document, pagination.get("has_more", "meta.has_more"))
            following = dig(document, pagination.get("next", "links.next"))
            return (following if more and following else None), number
        if kind == "next_url":
            following = dig(document, pagination.get("next", "next_page"))
            return (following if isinstance(following, str) else None), number
        if kind == "link":
            match = _LINK_NEXT.search(headers.get("link", ""))
            return (match.group(1) if match else None), number
        if kind in ("page", "offset") and items:
            return target, number + (1 if kind == "page" else len(items))
        return None, number


def _items(document: Any, select: str) -> list[Mapping[str, Any]]:
    found = dig(document, select) if select else document
    if found is None:
        return []
    if isinstance(found, Mapping):
        return [found]
    if not isinstance(found, list):
        raise ConnectorError(f"answer has no list at {select!r}", permanent=False)
    return [item for item in found if isinstance(item, Mapping)]


def normalized(value: str, how: str | None) -> str:
    """An identifier as the vendor keeps it, for a lookup by the value
    itself: `lower` (an e-mail), `e164` (a phone: + and digits only, a
    leading 00 read as +); else as given."""
    if how == "lower":
        return value.strip().lower()
    if how == "e164":
        digits = _digits(value)
        if value.strip().startswith("+"):
            return f"+{digits}"
        return f"+{digits[2:]}" if digits.startswith("00") else digits
    return value


def _same(identifier: str, stored: Any, value: str) -> bool:
    if not isinstance(stored, str):
        return False
    if identifier == "email":
        return stored.strip().lower() == value.strip().lower()
    if identifier == "phone":
        return _digits(stored)[-9:] == _digits(value)[-9:] != ""
    return stored.strip() == value.strip()


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())
