"""The OpenAI stand-in's HTTP side: the stored Chat Completions endpoints
openai.yaml calls, as openai-openapi describes them. Bearer API key (401
invalid_api_key); an OpenAI-Project header must name the key's project
(401 otherwise); a budget per window (429 with Retry-After, every answer
with x-ratelimit-limit/remaining/reset-requests); list objects (data,
first_id, last_id, has_more) paged by `after` and `limit` (1 to 100; pages
smaller than asked, to exercise paging) and filtered by `metadata[k]=v`
pairs; a created completion stored only with `store: true`, its metadata
checked (16 pairs, 64-character keys, 512-character values: 400 naming the
param); DELETE answers chat.completion.deleted, then the id answers 404;
and `/_standin/state.json` (no auth).

    standin = start(token="sk-proj-...")     # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats
    standin.stop()
"""

from __future__ import annotations

import re
from typing import Any

from standins.http import Handler, Service, routes, starter
from standins.openai.state import PROJECT, Account, metadata_problem

MAX_LIMIT = 100
PER_MINUTE = 500  # Tier 1's requests a minute
_METADATA = re.compile(r"^metadata\[(.+)\]$")

StandIn = Service[Account]


def _error(
    message: str, *, kind: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _invalid(param: str, message: str) -> tuple[int, Any]:
    return 400, _error(message, kind="invalid_request_error", param=param)


def _missing(cid: str) -> tuple[int, Any]:
    message = f"No chat completion found with id '{cid}'."
    return 404, _error(message, kind="invalid_request_error")


# the stored Chat Completions endpoints, under the API's version prefix
ROUTES = [
    ("GET", r"chat/completions", "list"),
    ("POST", r"chat/completions", "create"),
    ("GET", r"chat/completions/([A-Za-z0-9_-]+)", "show"),
    ("DELETE", r"chat/completions/([A-Za-z0-9_-]+)", "delete"),
    ("GET", r"chat/completions/([A-Za-z0-9_-]+)/messages", "messages"),
]


class OpenAIHandler(Handler):
    standin: StandIn
    routes = routes("/v1/", ROUTES, suffix="")
    refusals = {
        401: _error(
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            kind="invalid_request_error",
            code="invalid_api_key",
        ),
        404: _error("Not found.", kind="invalid_request_error"),
        429: _error(
            "Rate limit reached for requests. Please try again later.",
            kind="requests",
            code="rate_limit_exceeded",
        ),
        503: _error("The server is overloaded.", kind="server_error"),
    }
    numeric_ids = False

    def _authenticated(self) -> bool:
        if self.headers.get("Authorization", "") != f"Bearer {self.standin.token}":
            return False
        project = self.headers.get("OpenAI-Project")
        return project is None or project == PROJECT

    def budget_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.standin.per_window),
            "x-ratelimit-remaining-requests": str(self.standin.remaining()),
            "x-ratelimit-reset-requests": f"{self.standin.reset()}s",
        }

    def _page(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """One list object of `items` after the query's `after` id."""
        try:
            limit = int(self.query.get("limit", 20))
        except ValueError:
            return _invalid("limit", "limit must be an integer.")
        if not 1 <= limit <= MAX_LIMIT:
            return _invalid("limit", f"limit must be between 1 and {MAX_LIMIT}.")
        start = 0
        after = self.query.get("after")
        if after is not None:
            ids = [item["id"] for item in items]
            if after not in ids:
                return _invalid("after", f"No object found with id '{after}'.")
            start = ids.index(after) + 1
        page = items[start : start + min(limit, self.standin.page_size)]
        return 200, {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + len(page) < len(items),
        }

    def _order(self) -> str | None:
        order = self.query.get("order", "asc")
        return order if order in ("asc", "desc") else None

    # -- routes ---------------------------------------------------------------
    def _list(self, body: Any) -> tuple[int, Any]:
        order = self._order()
        if order is None:
            return _invalid("order", "order must be one of asc, desc.")
        metadata = {
            match.group(1): value
            for key, value in self.query.items()
            if (match := _METADATA.match(key))
        }
        return self._page(self.standin.account.listed(metadata=metadata, order=order))

    def _create(self, body: Any) -> tuple[int, Any]:
        turns = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(turns, list) or not turns:
            return _invalid("messages", "messages must be a non-empty array.")
        if not isinstance(body.get("model"), str):
            return _invalid("model", "you must provide a model parameter.")
        problem = metadata_problem(body.get("metadata"))
        if problem:
            return _invalid("metadata", problem)
        answer = "Thanks, I have noted that."
        if body.get("store"):
            return 200, self.standin.account.store(turns, answer, body.get("metadata"))
        return 200, {"id": "chatcmpl-unstored", "object": "chat.completion"}

    def _show(self, cid: str, body: Any) -> tuple[int, Any]:
        completion = self.standin.account.completions.get(cid)
        return (200, dict(completion)) if completion else _missing(cid)

    def _delete(self, cid: str, body: Any) -> tuple[int, Any]:
        if not self.standin.account.delete(cid):
            return _missing(cid)
        return 200, {"object": "chat.completion.deleted", "id": cid, "deleted": True}

    def _messages(self, cid: str, body: Any) -> tuple[int, Any]:
        if cid not in self.standin.account.completions:
            return _missing(cid)
        order = self._order()
        if order is None:
            return _invalid("order", "order must be one of asc, desc.")
        found = self.standin.account.messages_of(cid)
        return self._page(found if order == "asc" else found[::-1])


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(
    OpenAIHandler, Account.seeded, per_window=PER_MINUTE, window_seconds=60.0
)
