"""The Weaviate stand-in's HTTP side: the REST v1 calls the `weaviate` kind
makes, with API-key auth (`Authorization: Bearer`, 401), the shared budget
(429 + Retry-After) and 5xx rate of standins.http, and
`/_standin/state.json` (no auth).

    GET    /v1/schema                       {"classes": [...]}
    GET    /v1/schema/{class}               one class, or 404
    GET    /v1/objects?class=&limit=&after=&include=vector
                                            a page in ascending id order
    GET    /v1/objects/{class}/{id}[?include=vector]
    DELETE /v1/batch/objects                {"match": {"class", "where"},
                                             "output": "minimal"|"verbose",
                                             "dryRun": bool}

GraphQL is left out: Weaviate deprecated it (2026-10-26) and switches it off
on Weaviate Cloud clusters, so the kind reads with these REST calls only.

    standin = start(token="k3y", query_maximum_results=100)
    standin.url, standin.account, standin.stats
    standin.stop()
"""

from __future__ import annotations

import time
from typing import Any

from standins.http import Handler, Service, routes, starter
from standins.weaviate.state import DEFAULT_LIST_LIMIT, FilterError, Store

StandIn = Service[Store]
_CLASS = r"([A-Z][A-Za-z0-9_]*)"
_UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"


def _error(message: str) -> dict[str, Any]:
    return {"error": [{"message": message}]}


class _Handler(Handler):
    standin: StandIn
    numeric_ids = False
    routes = routes(
        "/v1/",
        [
            ("GET", r"schema", "schema"),
            ("GET", rf"schema/{_CLASS}", "class_def"),
            ("GET", r"objects", "list"),
            ("GET", rf"objects/{_CLASS}/{_UUID}", "object"),
            ("DELETE", r"batch/objects", "batch_delete"),
        ],
        suffix="",
    )
    refusals = {
        401: {"code": 401, "message": "unauthorized: no valid API key given"},
        404: None,
        429: _error("rate limit exceeded"),
        503: _error("service unavailable"),
    }

    def _authenticated(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.standin.token}"

    def _vector(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as the API shows it: its vector only when asked."""
        shown = {k: v for k, v in obj.items() if k != "vector"}
        shown["properties"] = dict(obj["properties"])
        if "vector" in self.query.get("include", "").split(","):
            shown["vector"] = list(obj["vector"])
        return shown

    # -- routes ---------------------------------------------------------------
    def _schema(self, body: Any) -> tuple[int, Any]:
        store = self.standin.account
        with store.lock:
            return 200, {"classes": list(store.classes.values())}

    def _class_def(self, name: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.classes.get(name)
        return (200, found) if found else (404, None)

    def _list(self, body: Any) -> tuple[int, Any]:
        store = self.standin.account
        name = self.query.get("class", "")
        after = self.query.get("after", "")
        if after and not name:
            return 422, _error("after can only be used with class")
        if after and ("offset" in self.query or "sort" in self.query):
            return 422, _error("after cannot be used with offset or sort")
        if name not in store.classes:
            return 422, _error(f"class {name!r} not found in the schema")
        try:
            limit = int(self.query.get("limit", DEFAULT_LIST_LIMIT))
        except ValueError:
            return 422, _error("limit must be an integer")
        if not 0 < limit <= store.query_maximum_results:
            return 422, _error("limit out of range (QUERY_MAXIMUM_RESULTS)")
        page = [self._vector(o) for o in store.listing(name, limit=limit, after=after)]
        return 200, {"objects": page, "deprecations": None, "totalResults": len(page)}

    def _object(self, name: str, object_id: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.get(name, object_id)
        return (200, self._vector(found)) if found else (404, None)

    def _batch_delete(self, body: Any) -> tuple[int, Any]:
        match = body.get("match") if isinstance(body, dict) else None
        if not isinstance(match, dict) or not isinstance(match.get("class"), str):
            return 422, _error("match.class is required")
        if "where" not in match:
            return 422, _error("match.where is required")
        output = body.get("output", "minimal")
        dry_run = body.get("dryRun", False)
        if output not in ("minimal", "verbose") or not isinstance(dry_run, bool):
            return 422, _error("output is minimal or verbose; dryRun a boolean")
        try:
            results = self.standin.account.batch_delete(
                match["class"],
                match["where"],
                dry_run=dry_run,
                verbose=output == "verbose",
            )
        except FilterError as error:
            return 422, _error(str(error))
        return 200, {
            "match": match,
            "output": output,
            "dryRun": dry_run,
            "deletionTimeUnixMilli": int(time.time() * 1000),
            "results": results,
        }


_start = starter(_Handler, Store.seeded)


def start(
    account: Store | None = None,
    *,
    token: str,
    port: int = 0,
    query_maximum_results: int | None = None,
    **options: Any,
) -> StandIn:
    """A Weaviate stand-in holding `account` (else the seeded one);
    `query_maximum_results` caps a batch delete (QUERY_MAXIMUM_RESULTS),
    `options` set standins.http.Service fields (error_rate, per_window...)."""
    store = account or Store.seeded()
    if query_maximum_results is not None:
        store.query_maximum_results = query_maximum_results
    return _start(store, token=token, port=port, **options)
