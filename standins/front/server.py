"""The Front stand-in's HTTP side: the Core API calls front.yaml makes, with
a Bearer API token (401 `_error`), a per-company budget per minute (429
with retry-after and x-ratelimit-* headers, the reset a UNIX time),
contacts found by resource alias (`alt:email:…`, `alt:phone:…`, one
object or 404), HAL lists (`_results`, `_pagination.next` a full URL with
a page_token, small pages), the trash then the permanent delete of a
conversation (400 unless trashed first), an optional 5xx rate, a token
revoked after N calls, and `/_standin/state.json`.

    standin = start(token="…")   # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats; standin.stop()
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from standins.front.state import Company
from standins.http import Handler, Service, routes, starter

PER_WINDOW = 50  # the Starter plan: 50 requests a minute per company
WINDOW_SECONDS = 60.0

StandIn = Service[Company]


def _error(status: int, title: str, message: str) -> dict[str, Any]:
    return {"_error": {"status": status, "title": title, "message": message}}


NOT_FOUND = _error(404, "Not found", "Resource not found")


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        "",
        [
            ("GET", "/me", "me"),
            ("GET", "/contacts/([^/]+)", "get_contact"),
            ("PATCH", "/contacts/([^/]+)", "update_contact"),
            ("DELETE", "/contacts/([^/]+)", "delete_contact"),
            ("GET", "/contacts/([^/]+)/conversations", "contact_conversations"),
            ("GET", "/conversations/([^/]+)", "get_conversation"),
            ("PATCH", "/conversations/([^/]+)", "update_conversation"),
            ("DELETE", "/conversations/([^/]+)", "delete_conversation"),
            ("GET", "/conversations/([^/]+)/messages", "messages"),
            ("GET", "/conversations/([^/]+)/comments", "comments"),
        ],
        suffix="",
    )
    refusals = {
        401: _error(401, "Unauthenticated", "Invalid or missing API token"),
        404: NOT_FOUND,
        503: _error(503, "Service unavailable", "Try again"),
    }
    numeric_ids = False  # crd_…, cnv_…, and aliases

    def _authenticated(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.standin.token}"

    def refusal(self, status: int) -> Any:
        if status == 429:
            return _error(429, "Too many requests", "Rate limit exceeded")
        return super().refusal(status)

    def budget_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.standin.per_window),
            "x-ratelimit-remaining": str(self.standin.remaining()),
            "x-ratelimit-reset": str(self.standin.window_end()),
        }

    # -- pages -------------------------------------------------------------------
    def _page(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """One page of `items` as Front lists: `_results`, and the next
        page's full URL (the same query, a page_token) in `_pagination`."""
        query = parse_qs(urlsplit(self.path).query)
        limit = min(int(self.query.get("limit") or 25), 100, self.standin.page_size)
        start = int(self.query.get("page_token") or 0)
        end = start + limit
        following = None
        if end < len(items):
            query["page_token"] = [str(end)]
            following = f"{self._base()}?{urlencode(query, doseq=True)}"
        return 200, {
            "_pagination": {"next": following},
            "_links": {"self": self._base()},
            "_results": items[start:end],
        }

    def _statuses(self) -> list[str]:
        query = parse_qs(urlsplit(self.path).query)
        return query.get("q[statuses][]", [])

    # -- routes ------------------------------------------------------------------
    def _me(self, body: Any) -> tuple[int, Any]:
        return 200, {"_links": {"self": "/me"}, "id": "cmp_k30", "name": "Demo Shop"}

    def _get_contact(self, key: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.contact_by(unquote(key))
        if found is None:
            return 404, NOT_FOUND
        return 200, {"_links": {"self": f"/contacts/{found['id']}"}, **found}

    def _update_contact(self, key: str, body: dict[str, Any]) -> tuple[int, Any]:
        if not self.standin.account.update_contact(unquote(key), body):
            return 404, NOT_FOUND
        return 204, None

    def _delete_contact(self, key: str, body: Any) -> tuple[int, Any]:
        if not self.standin.account.delete_contact(unquote(key)):
            return 404, NOT_FOUND
        return 204, None

    def _contact_conversations(self, key: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.contact_by(unquote(key))
        if found is None:
            return 404, NOT_FOUND
        statuses = self._statuses()
        return self._page(self.standin.account.conversations_of(found["id"], statuses))

    def _get_conversation(self, conv: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.conversation(conv)
        if found is None:
            return 404, NOT_FOUND
        return 200, found

    def _update_conversation(self, conv: str, body: dict[str, Any]) -> tuple[int, Any]:
        refused = self.standin.account.update_conversation(conv, body.get("status"))
        if refused == "not_found":
            return 404, NOT_FOUND
        if refused:
            return 400, _error(400, "Bad request", "Invalid status")
        return 204, None

    def _delete_conversation(self, conv: str, body: Any) -> tuple[int, Any]:
        refused = self.standin.account.delete_conversation(conv)
        if refused == "not_found":
            return 404, _error(404, "Not found", "Conversation not found")
        if refused:
            return 400, _error(
                400,
                "Bad request",
                'Conversation must have status "trashed" before it can be '
                "permanently deleted",
            )
        return 204, None

    def _messages(self, conv: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.messages.get(conv)
        if found is None:
            return 404, NOT_FOUND
        return self._page(list(reversed(found)))  # newest first

    def _comments(self, conv: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.comments.get(conv)
        if found is None:
            return 404, NOT_FOUND
        return 200, {"_links": {"self": self._base()}, "_results": list(found)}


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(
    _Handler, Company.seeded, per_window=PER_WINDOW, window_seconds=WINDOW_SECONDS
)
