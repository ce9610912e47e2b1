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
import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from standins.zendesk.state import AGENT_EMAIL, AGENT_ID, Account


@dataclass
class Stats:
    calls: int = 0
    refused_429: int = 0
    early_retries: int = 0  # calls made before a 429's Retry-After ran out
    failed_5xx: int = 0
    by_route: dict[str, int] = field(default_factory=dict)


@dataclass
class StandIn:
    account: Account
    token: str
    per_window: int = 700
    window_seconds: float = 60.0
    page_size: int = 2  # the most any page holds: small, to exercise paging
    error_rate: float = 0.0
    latency: float = 0.0
    rate_headers: bool = True  # X-Rate-Limit-Remaining and ratelimit-reset
    revoke_after: int | None = None
    failing: set[str] = field(
        default_factory=set
    )  # routes answering 503  # calls after which the token is revoked
    stats: Stats = field(default_factory=Stats)
    server: ThreadingHTTPServer | None = None
    _window: tuple[int, int] = (0, 0)
    _retry_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def admit(self) -> float | None:
        """Count a call against the budget; seconds to wait when over it."""
        with self._lock:
            now = time.time()
            self.stats.calls += 1
            if now < self._retry_at:
                self.stats.early_retries += 1
            window = int(now // self.window_seconds)
            current, count = self._window
            count = count + 1 if current == window else 1
            self._window = (window, count)
            if count <= self.per_window:
                return None
            self.stats.refused_429 += 1
            wait = (window + 1) * self.window_seconds - now
            self._retry_at = max(self._retry_at, now + math.ceil(wait))
            return float(math.ceil(wait))

    def fails_now(self) -> bool:
        with self._lock:
            failed = self.error_rate > 0 and self._rng.random() < self.error_rate
            self.stats.failed_5xx += failed
            return failed

    def reset(self) -> int:
        """Seconds until the current window ends."""
        return math.ceil(self.window_seconds - time.time() % self.window_seconds)

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.per_window - self._window[1])


def start(
    account: Account | None = None, *, token: str, port: int = 0, **options: Any
) -> StandIn:
    """Serve a stand-in on 127.0.0.1 (`port` 0: a free one) in a thread."""
    standin = StandIn(account=account or Account.seeded(), token=token, **options)

    class Handler(_Handler):
        pass

    Handler.standin = standin
    standin.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    standin.server.daemon_threads = True
    threading.Thread(target=standin.server.serve_forever, daemon=True).start()
    return standin


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(f"^/api/v2/{p}(?:\\.json)?$"), name)
    for m, p, name in [
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
    ]
]


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet: tests read stats
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path == "/_standin/state.json":
            self._send(200, self.standin.account.summary())
            return None
        standin = self.standin
        if standin.latency:
            time.sleep(standin.latency)
        wait = standin.admit()
        if wait is not None:
            return self._send(429, {"error": "TooManyRequests"}, retry_after=wait)
        if standin.revoke_after is not None and standin.stats.calls > (
            standin.revoke_after
        ):
            standin.token = "revoked"
        if not self._authenticated():
            return self._send(401, {"error": "Couldn't authenticate you"})
        if standin.fails_now():
            return self._send(503, {"error": "ServiceUnavailable"})
        for route_method, pattern, name in _ROUTES:
            match = pattern.match(parts.path)
            if match and route_method == method:
                if name in standin.failing:
                    return self._send(503, {"error": "ServiceUnavailable"})
                standin.stats.by_route[name] = standin.stats.by_route.get(name, 0) + 1
                body = json.loads(raw) if raw else {}
                ids = [int(group) for group in match.groups()]
                status, document = getattr(self, f"_{name}")(*ids, body=body)
                return self._send(status, document)
        return self._send(404, {"error": "InvalidEndpoint"})

    def _authenticated(self) -> bool:
        expected = f"{AGENT_EMAIL}/token:{self.standin.token}".encode()
        header = self.headers.get("Authorization", "")
        return header == f"Basic {base64.b64encode(expected).decode()}"

    def _send(self, status: int, document: Any, *, retry_after: float = 0) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.standin.rate_headers:
            self.send_header("X-Rate-Limit", str(self.standin.per_window))
            self.send_header("X-Rate-Limit-Remaining", str(self.standin.remaining()))
            self.send_header("ratelimit-reset", str(self.standin.reset()))
        if retry_after:
            self.send_header("Retry-After", str(int(retry_after)))
        self.end_headers()
        self.wfile.write(data)

    # -- pages -----------------------------------------------------------------
    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}{urlsplit(self.path).path}"

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
