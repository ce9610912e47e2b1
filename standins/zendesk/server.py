"""The Zendesk stand-in's HTTP side: the API calls the zendesk definition
makes, with API-token Basic auth (401), an account-wide budget per window
(429 + Retry-After), cursor pagination with small pages, offset pages on
users/search, an optional 5xx rate and latency, and `/_standin/state.json`
(no auth) to see what it holds.

    standin = start(token="t0k3n")          # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats
    standin.stop()
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from standins.http import Handler, Service, routes, starter
from standins.zendesk.state import AGENT_EMAIL, AGENT_ID, Account

StandIn = Service[Account]


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        "/api/v2/",
        [
            ("GET", r"users/me", "me"),
            ("GET", r"users/search", "search"),
            ("GET", r"users/(\d+)", "show_user"),
            ("PUT", r"users/(\d+)", "update_user"),
            ("DELETE", r"users/(\d+)", "delete_user"),
            ("GET", r"users/(\d+)/identities", "identities"),
            ("GET", r"users/(\d+)/tickets/requested", "requested"),
            ("GET", r"tickets/(\d+)/comments", "comments"),
            ("PUT", r"comment_redactions/(\d+)", "redact"),
            ("GET", r"deleted_users/(\d+)", "show_deleted"),
            ("DELETE", r"deleted_users/(\d+)", "purge"),
        ],
    )
    refusals = {
        401: {"error": "Couldn't authenticate you"},
        404: {"error": "InvalidEndpoint"},
        429: {"error": "TooManyRequests"},
        503: {"error": "ServiceUnavailable"},
    }

    def _authenticated(self) -> bool:
        expected = f"{AGENT_EMAIL}/token:{self.standin.token}".encode()
        header = self.headers.get("Authorization", "")
        return header == f"Basic {base64.b64encode(expected).decode()}"

    def budget_headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit": str(self.standin.per_window),
            "X-Rate-Limit-Remaining": str(self.standin.remaining()),
            "ratelimit-reset": str(self.standin.reset()),
        }

    # -- pages -----------------------------------------------------------------
    def _cursor(self, key: str, items: list[dict[str, Any]]) -> tuple[int, Any]:
        size = min(int(self.query.get("page[size]", 100)), self.standin.page_size)
        start = int(self.query.get("page[after]", 0))
        page, end = items[start : start + size], start + size
        more = end < len(items)
        params = urlencode({"page[size]": size, "page[after]": end})
        return 200, {
            key: page,
            "meta": {"has_more": more, "after_cursor": str(end) if more else None},
            "links": {"next": f"{self._base()}?{params}" if more else None},
        }

    # -- routes ---------------------------------------------------------------
    def _me(self, body: Any) -> tuple[int, Any]:
        return 200, {"user": self.standin.account.users[AGENT_ID]}

    def _search(self, body: Any) -> tuple[int, Any]:
        found = self.standin.account.search(self.query.get("query", ""))
        per_page = min(int(self.query.get("per_page", 100)), self.standin.page_size)
        page = int(self.query.get("page", 1))
        items = found[(page - 1) * per_page : page * per_page]
        following = None
        if page * per_page < len(found):
            params = urlencode({**self.query, "page": page + 1, "per_page": per_page})
            following = f"{self._base()}?{params}"
        return 200, {"users": items, "next_page": following, "count": len(found)}

    def _show_user(self, uid: int, body: Any) -> tuple[int, Any]:
        user = self.standin.account.users.get(uid)
        return (200, {"user": user}) if user else (404, {"error": "RecordNotFound"})

    def _update_user(self, uid: int, body: Any) -> tuple[int, Any]:
        user = self.standin.account.update_user(uid, dict(body.get("user") or {}))
        return (200, {"user": user}) if user else (404, {"error": "RecordNotFound"})

    def _delete_user(self, uid: int, body: Any) -> tuple[int, Any]:
        user = self.standin.account.soft_delete(uid)
        return (200, {"user": user}) if user else (404, {"error": "RecordNotFound"})

    def _identities(self, uid: int, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        if uid not in account.users or uid in account.soft_deleted:
            return 404, {"error": "RecordNotFound"}
        return self._cursor("identities", list(account.identities.get(uid, [])))

    def _requested(self, uid: int, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        if uid not in account.users or uid in account.soft_deleted:
            return 404, {"error": "RecordNotFound"}
        return self._cursor("tickets", account.tickets_of(uid))

    def _comments(self, tid: int, body: Any) -> tuple[int, Any]:
        comments = self.standin.account.comments.get(tid)
        if comments is None:
            return 404, {"error": "RecordNotFound"}
        return self._cursor("comments", [dict(c) for c in comments])

    def _redact(self, cid: int, body: Any) -> tuple[int, Any]:
        marked = body.get("html_body")
        if not isinstance(marked, str) or not isinstance(body.get("ticket_id"), int):
            return 400, {"error": "html_body and ticket_id are required"}
        result = self.standin.account.redact(cid, body["ticket_id"], marked)
        if result is None:
            return 404, {"error": "RecordNotFound"}
        if result == "":
            return 400, {"error": "html_body must be the comment's, with <redact> tags"}
        return 200, {"comment": {"id": cid, "html_body": result}}

    def _show_deleted(self, uid: int, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        if uid not in account.soft_deleted:
            return 404, {"error": "RecordNotFound"}
        return 200, {"deleted_user": account.users[uid]}

    def _purge(self, uid: int, body: Any) -> tuple[int, Any]:
        gone = self.standin.account.purge(uid)
        return (
            (200, {"deleted_user": gone})
            if gone
            else (404, {"error": "RecordNotFound"})
        )


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(_Handler, Account.seeded)
