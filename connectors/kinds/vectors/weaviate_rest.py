"""Weaviate's REST API v1 as the vector engine protocol (vectors.base):
the calls the `weaviate` kind makes (see connectors.kinds.vectors.weaviate
for which and why)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from connectors.base import ConnectorError
from connectors.kinds.saas.client import Client
from connectors.kinds.vectors.base import Match, Point

# Tokenizations under which a key's value is one token (ids and e-mails have
# no spaces): ContainsAny then matches whole values only.
WHOLE_VALUE = ("field", "whitespace", "lowercase")
BATCH = "/v1/batch/objects"


class WeaviateEngine:
    """The engine protocol over Weaviate's REST API."""

    def __init__(self, client: Client, *, document_key: str, page_size: int):
        self.client = client
        self.document_key = document_key
        self.page_size = page_size
        self._properties: dict[str, dict[str, dict[str, Any]]] = {}

    # -- the protocol ------------------------------------------------------------
    def collections(self) -> list[str]:
        answer = self.client.call("GET", "/v1/schema", label="/v1/schema")
        classes = _field(answer.document, "classes", list, "/v1/schema")
        return [c["class"] for c in classes if isinstance(c, dict) and "class" in c]

    def dimensions(self, collection: str) -> dict[str, int]:
        for obj in self._page(collection, after="", limit=1, vectors=True):
            named = obj.get("vectors")
            if isinstance(named, dict) and named:
                return {
                    name: len(v) for name, v in named.items() if isinstance(v, list)
                }
            vector = obj.get("vector")
            return {"": len(vector)} if isinstance(vector, list) else {}
        return {}

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        where = self._where(collection, match)
        if where is None:
            return
        results = self._batch(collection, where, dry_run=True, verbose=True)
        if results["matches"] >= results["limit"]:  # perhaps cut at the limit
            yield from self._scan(collection, match)
            return
        for item in results.get("objects") or []:
            object_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(object_id, str):
                continue
            path = f"/v1/objects/{quote(collection)}/{quote(object_id)}"
            answer = self.client.call(
                "GET", path, label="/v1/objects/{collection}/{id}"
            )
            if answer.status == 404 or not isinstance(answer.document, dict):
                continue  # deleted since the dry run
            yield self._point(answer.document)

    def count(self, collection: str, match: Match) -> int:
        where = self._where(collection, match)
        if where is None:
            return 0
        results = self._batch(collection, where, dry_run=True, verbose=False)
        if results["matches"] < results["limit"]:
            return int(results["matches"])
        return sum(1 for _ in self._scan(collection, match))

    def delete(self, collection: str, match: Match) -> int | None:
        where = self._where(collection, match)
        if where is None:
            return 0
        results = self._batch(collection, where, dry_run=False, verbose=False)
        if results.get("failed"):
            raise ConnectorError(
                f"weaviate: {results['failed']} object(s) of {collection} could "
                "not be deleted; retried later"
            )
        return int(results.get("successful") or 0)

    def close(self) -> None:
        """Nothing held open: each call is one HTTP request."""

    # -- the filter ----------------------------------------------------------------
    def properties(self, collection: str) -> dict[str, dict[str, Any]]:
        """The collection's properties by name (read once per engine)."""
        if collection not in self._properties:
            answer = self.client.call(
                "GET", f"/v1/schema/{quote(collection)}", label="/v1/schema/{class}"
            )
            if answer.status == 404:
                raise ConnectorError(
                    f"weaviate: collection {collection} not found", permanent=True
                )
            found = _field(answer.document, "properties", list, "/v1/schema/{class}")
            self._properties[collection] = {
                p["name"]: p for p in found if isinstance(p, dict) and "name" in p
            }
        return self._properties[collection]

    def key_kind(self, collection: str, key: str) -> str:
        """How the collection holds metadata key `key`: "text", "int", or ""
        when it has no such property; ConnectorError (permanent) when the
        property cannot name one subject safely."""
        prop = self.properties(collection).get(key)
        if prop is None:
            return ""
        kind = _data_type(prop)
        if kind in ("int", "int[]"):
            return "int"
        if kind not in ("text", "text[]"):
            raise ConnectorError(
                f"weaviate: property {key} of {collection} holds {kind}; "
                "only text and int keys can name a subject",
                permanent=True,
            )
        tokenization = prop.get("tokenization", "word")
        if tokenization not in WHOLE_VALUE:
            raise ConnectorError(
                f"weaviate: property {key} of {collection} is tokenized "
                f"{tokenization!r}: matching on it could hit other people's "
                "objects; tokenize it as field",
                permanent=True,
            )
        return "text"

    def _where(self, collection: str, match: Match) -> dict[str, Any] | None:
        """The `Or` of one ContainsAny per key the collection has; None
        when none of them can match."""
        operands: list[dict[str, Any]] = []
        for key, values in match.terms:
            kind = self.key_kind(collection, key)
            if kind == "text" and values:
                operand: dict[str, Any] = {"valueTextArray": list(values)}
            elif kind == "int" and Match.numbers(values):
                operand = {"valueIntArray": list(Match.numbers(values))}
            else:
                continue
            operands.append({"path": [key], "operator": "ContainsAny", **operand})
        if len(operands) < 2:
            return operands[0] if operands else None
        return {"operator": "Or", "operands": operands}

    def _holds(self, collection: str, obj: Mapping[str, Any], match: Match) -> bool:
        """Whether the filter of `match` takes the object, as Weaviate
        compares under the WHOLE_VALUE tokenizations (for `_scan`)."""
        properties = obj.get("properties") or {}
        for key, values in match.terms:
            prop = self.properties(collection).get(key)
            if prop is None or key not in properties:
                continue
            held = properties[key]
            held_values = held if isinstance(held, list) else [held]
            if _data_type(prop).startswith("int"):
                if set(Match.numbers(values)) & set(held_values):
                    return True
                continue
            tokenization = prop.get("tokenization", "word")
            wanted = {t for v in values for t in _tokens(v, tokenization)}
            if any(
                wanted & _tokens(h, tokenization)
                for h in held_values
                if isinstance(h, str)
            ):
                return True
        return False

    # -- calls ---------------------------------------------------------------------
    def _batch(
        self, collection: str, where: dict[str, Any], *, dry_run: bool, verbose: bool
    ) -> dict[str, Any]:
        answer = self.client.call(
            "DELETE",
            BATCH,
            label=BATCH,
            body={
                "match": {"class": collection, "where": where},
                "output": "verbose" if verbose else "minimal",
                "dryRun": dry_run,
            },
        )
        results: dict[str, Any] = _field(answer.document, "results", dict, BATCH)
        for name in ("matches", "limit"):
            if isinstance(results.get(name), bool) or not isinstance(
                results.get(name), int
            ):
                raise ConnectorError(f"weaviate: {BATCH} answered without {name}")
        # QUERY_MAXIMUM_RESULTS bounds a listing's page too
        self.page_size = max(1, min(self.page_size, results["limit"]))
        return results

    def _scan(self, collection: str, match: Match) -> Iterator[Point]:
        """Every object of the collection, page by page (never more than the
        cap the last batch call named), kept when it matches."""
        after = ""
        while True:
            size = self.page_size
            page = self._page(collection, after=after, limit=size)
            for obj in page:
                if self._holds(collection, obj, match):
                    yield self._point(obj)
            if len(page) < size:
                return
            after = str(page[-1]["id"])

    def _page(
        self, collection: str, *, after: str, limit: int, vectors: bool = False
    ) -> list[dict[str, Any]]:
        params = {"class": collection, "limit": str(limit)}
        if after:
            params["after"] = after
        if vectors:
            params["include"] = "vector"
        answer = self.client.call(
            "GET", "/v1/objects", label="/v1/objects", params=params
        )
        objects = _field(answer.document, "objects", list, "/v1/objects")
        return [o for o in objects if isinstance(o, dict) and "id" in o]

    def _point(self, obj: Mapping[str, Any]) -> Point:
        metadata = dict(obj.get("properties") or {})
        document = metadata.pop(self.document_key, None)
        return Point(
            id=str(obj["id"]),
            document=document if isinstance(document, str) else None,
            metadata=metadata,
        )


def _data_type(prop: Mapping[str, Any]) -> str:
    kinds = prop.get("dataType") or ["text"]
    return str(kinds[0])


def _tokens(value: str, tokenization: str) -> set[str]:
    """The tokens Weaviate cuts a text into, for the WHOLE_VALUE ones."""
    if tokenization == "field":
        return {value.strip()} if value.strip() else set()
    if tokenization == "lowercase":
        return set(value.lower().split())
    return set(value.split())


def _field(document: Any, name: str, kind: type, label: str) -> Any:
    value = document.get(name) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise ConnectorError(f"weaviate: {label} answered without {name}")
    return value
