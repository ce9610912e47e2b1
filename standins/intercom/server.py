"""The Intercom stand-in's HTTP side: the calls intercom.yaml makes, with a
Bearer token (401 error.list), a budget per 10-second window (429
rate_limit_exceeded with X-RateLimit-* headers, the reset a UNIX time, no
Retry-After), searches paged by `starting_after` in the body, an optional
5xx rate, a token revoked after N calls, and `/_standin/state.json`.

    standin = start(token="t0k3n")   # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats; standin.stop()
"""

from __future__ import annotations

import math
from typing import Any

from standins.http import Handler, Service, routes, starter
from standins.intercom.state import ADMIN_ID, Workspace

WINDOW_SECONDS = 10.0
PER_WINDOW = 1667  # 10,000 a minute, per 10 s window

StandIn = Service[Workspace]


def _errors(code: str, message: str) -> dict[str, Any]:
    return {
        "type": "error.list",
        "request_id": "standin",
        "errors": [{"code": code, "message": message}],
    }


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        "",
        [
            ("GET", "/me", "me"),
            ("POST", "/contacts/search", "search_contacts"),
            ("GET", "/contacts/([0-9a-f]+)", "show_contact"),
            ("PUT", "/contacts/([0-9a-f]+)", "update_contact"),
            ("DELETE", "/contacts/([0-9a-f]+)", "delete_contact"),
            ("POST", "/conversations/search", "search_conversations"),
            ("GET", "/conversations/(\\d+)", "show_conversation"),
            ("POST", "/conversations/redact", "redact"),
        ],
        suffix="",
    )
    refusals = {
        401: _errors("unauthorized", "Access Token Invalid"),
        404: _errors("not_found", "Resource Not Found"),
        503: _errors("service_unavailable", "Try again"),
    }
    auth_first = True  # an unknown token is 401 even over the budget
    retry_after = False  # the 429 says when in X-RateLimit-Reset only
    numeric_ids = False

    def _authenticated(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.standin.token}"

    def refusal(self, status: int) -> Any:
        if status == 429:
            limit = self.standin.per_window
            message = f"Exceeded rate limit of {limit} in 10_seconds"
            return _errors("rate_limit_exceeded", message)
        return super().refusal(status)

    def budget_headers(self) -> dict[str, str]:
        if not self.authorized:  # only to an authenticated call, as Intercom does
            return {}
        return {
            "X-RateLimit-Limit": str(self.standin.per_window),
            "X-RateLimit-Remaining": str(self.standin.remaining()),
            "X-RateLimit-Reset": str(self.standin.window_end()),
        }

    # -- pages -------------------------------------------------------------------
    def _page(
        self, key: str, items: list[Any], body: dict[str, Any]
    ) -> tuple[int, Any]:
        paging = body.get("pagination") or {}
        size = min(int(paging.get("per_page") or 50), self.standin.page_size)
        start = int(paging.get("starting_after") or 0)
        end = start + size
        pages: dict[str, Any] = {
            "type": "pages",
            "page": start // size + 1,
            "per_page": size,
            "total_pages": max(1, math.ceil(len(items) / size)),
        }
        if end < len(items):
            pages["next"] = {"page": end // size + 1, "starting_after": str(end)}
        return 200, {
            "type": "list" if key == "data" else "conversation.list",
            key: items[start:end],
            "total_count": len(items),
            "pages": pages,
        }

    @staticmethod
    def _query(body: dict[str, Any]) -> tuple[str, str, str] | None:
        query = body.get("query") or {}
        if not all(
            isinstance(query.get(k), str) for k in ("field", "operator", "value")
        ):
            return None
        return query["field"], query["operator"], query["value"]

    # -- routes ------------------------------------------------------------------
    def _me(self, body: Any) -> tuple[int, Any]:
        return 200, {"type": "admin", "id": ADMIN_ID, "email": "admin@example.com"}

    def _search_contacts(self, body: dict[str, Any]) -> tuple[int, Any]:
        query = self._query(body)
        if query is None or query[1] != "=":
            return 400, {
                "type": "error.list",
                "errors": [{"code": "parameter_invalid"}],
            }
        found = self.standin.account.search_contacts(query[0], query[2])
        return self._page("data", found, body)

    def _show_contact(self, cid: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.contact(cid)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _update_contact(self, cid: str, body: dict[str, Any]) -> tuple[int, Any]:
        found = self.standin.account.update_contact(cid, body)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _delete_contact(self, cid: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.contact(cid)
        if found is None or not self.standin.account.delete_contact(cid):
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, {
            "type": "contact",
            "id": cid,
            "external_id": found.get("external_id"),
            "deleted": True,
        }

    def _search_conversations(self, body: dict[str, Any]) -> tuple[int, Any]:
        query = self._query(body)
        if query is None or query[0] != "contact_ids":
            return 400, {
                "type": "error.list",
                "errors": [{"code": "parameter_invalid"}],
            }
        found = self.standin.account.conversations_of(query[2])
        return self._page("conversations", found, body)

    def _show_conversation(self, conv_id: str, body: Any) -> tuple[int, Any]:
        found = self.standin.account.conversation(conv_id)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _redact(self, body: dict[str, Any]) -> tuple[int, Any]:
        refused = self.standin.account.redact(body)
        if refused == "not_found":
            return 404, {"type": "error.list", "errors": [{"code": refused}]}
        if refused:
            return 400, {"type": "error.list", "errors": [{"code": refused}]}
        conv = self.standin.account.conversation(str(body["conversation_id"]))
        return 200, conv


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(
    _Handler, Workspace.seeded, per_window=PER_WINDOW, window_seconds=WINDOW_SECONDS
)
