"""The Intercom stand-in's HTTP side: the calls intercom.yaml makes, with a
Bearer token (401 error.list), a budget per 10-second window (429
rate_limit_exceeded with X-RateLimit-* headers, the reset a UNIX time, no
Retry-After), searches paged by `starting_after` in the body, an optional
5xx rate, a token revoked after N calls, and `/_standin/state.json`.

    standin = start(token="t0k3n")   # a thread on 127.0.0.1:<free port>
    standin.url, standin.workspace, standin.stats; standin.stop()
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from standins.intercom.state import ADMIN_ID, Workspace

WINDOW_SECONDS = 10.0
_INVALID = {"type": "error.list", "errors": [{"code": "parameter_invalid"}]}


@dataclass
class Stats:
    calls: int = 0
    refused_429: int = 0
    failed_5xx: int = 0
    by_route: dict[str, int] = field(default_factory=dict)


@dataclass
class StandIn:
    workspace: Workspace
    token: str
    per_window: int = 1667  # 10,000 a minute, per 10 s window
    page_size: int = 2  # the most a page holds: small, to exercise paging
    error_rate: float = 0.0
    revoke_after: int | None = None
    stats: Stats = field(default_factory=Stats)
    server: ThreadingHTTPServer | None = None
    _window: tuple[int, int] = (0, 0)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def admit(self) -> tuple[bool, int, int]:
        """Count a call: (allowed, remaining, reset as a UNIX time)."""
        with self._lock:
            now = time.time()
            self.stats.calls += 1
            window = int(now // WINDOW_SECONDS)
            current, count = self._window
            count = count + 1 if current == window else 1
            self._window = (window, count)
            reset = math.ceil((window + 1) * WINDOW_SECONDS)
            allowed = count <= self.per_window
            self.stats.refused_429 += not allowed
            return allowed, max(0, self.per_window - count), reset

    def fails_now(self) -> bool:
        with self._lock:
            failed = self.error_rate > 0 and self._rng.random() < self.error_rate
            self.stats.failed_5xx += failed
            return failed


def start(
    workspace: Workspace | None = None, *, token: str, port: int = 0, **options: Any
) -> StandIn:
    """Serve a stand-in on 127.0.0.1 (`port` 0: a free one) in a thread."""
    standin = StandIn(workspace=workspace or Workspace.seeded(), token=token, **options)

    class Handler(_Handler):
        pass

    Handler.standin = standin
    standin.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    standin.server.daemon_threads = True
    threading.Thread(target=standin.server.serve_forever, daemon=True).start()
    return standin


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{path}$"), name)
    for method, path, name in [
        ("GET", "/me", "me"),
        ("POST", "/contacts/search", "search_contacts"),
        ("GET", "/contacts/([0-9a-f]+)", "show_contact"),
        ("PUT", "/contacts/([0-9a-f]+)", "update_contact"),
        ("DELETE", "/contacts/([0-9a-f]+)", "delete_contact"),
        ("POST", "/conversations/search", "search_conversations"),
        ("GET", "/conversations/(\\d+)", "show_conversation"),
        ("POST", "/conversations/redact", "redact"),
    ]
]


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet: tests read stats
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        standin = self.standin
        if path == "/_standin/state.json":
            return self._send(200, standin.workspace.summary())
        allowed, remaining, reset = standin.admit()
        if standin.revoke_after is not None and standin.stats.calls > (
            standin.revoke_after
        ):
            standin.token = "revoked"
        if self.headers.get("Authorization") != f"Bearer {standin.token}":
            return self._error(401, "unauthorized", "Access Token Invalid")
        limits = (standin.per_window, remaining, reset)
        if not allowed:
            message = f"Exceeded rate limit of {standin.per_window} in 10_seconds"
            return self._error(429, "rate_limit_exceeded", message, limits=limits)
        if standin.fails_now():
            return self._error(503, "service_unavailable", "Try again", limits=limits)
        for route_method, pattern, name in _ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                standin.stats.by_route[name] = standin.stats.by_route.get(name, 0) + 1
                body = json.loads(raw) if raw else {}
                status, document = getattr(self, f"_{name}")(*match.groups(), body=body)
                return self._send(status, document, limits=limits)
        return self._error(404, "not_found", "Resource Not Found", limits=limits)

    def _error(
        self, status: int, code: str, message: str, *, limits: tuple[int, ...] = ()
    ) -> None:
        document = {
            "type": "error.list",
            "request_id": "standin",
            "errors": [{"code": code, "message": message}],
        }
        self._send(status, document, limits=limits)

    def _send(
        self, status: int, document: Any, *, limits: tuple[int, ...] = ()
    ) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if limits:  # only to an authenticated call, as Intercom does
            for name, value in zip(
                ("Limit", "Remaining", "Reset"), limits, strict=True
            ):
                self.send_header(f"X-RateLimit-{name}", str(value))
        self.end_headers()
        self.wfile.write(data)

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
        found = self.standin.workspace.search_contacts(query[0], query[2])
        return self._page("data", found, body)

    def _show_contact(self, cid: str, body: Any) -> tuple[int, Any]:
        found = self.standin.workspace.contact(cid)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _update_contact(self, cid: str, body: dict[str, Any]) -> tuple[int, Any]:
        found = self.standin.workspace.update_contact(cid, body)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _delete_contact(self, cid: str, body: Any) -> tuple[int, Any]:
        found = self.standin.workspace.contact(cid)
        if found is None or not self.standin.workspace.delete_contact(cid):
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
        found = self.standin.workspace.conversations_of(query[2])
        return self._page("conversations", found, body)

    def _show_conversation(self, conv_id: str, body: Any) -> tuple[int, Any]:
        found = self.standin.workspace.conversation(conv_id)
        if found is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}
        return 200, found

    def _redact(self, body: dict[str, Any]) -> tuple[int, Any]:
        refused = self.standin.workspace.redact(body)
        if refused == "not_found":
            return 404, {"type": "error.list", "errors": [{"code": refused}]}
        if refused:
            return 400, {"type": "error.list", "errors": [{"code": refused}]}
        conv = self.standin.workspace.conversation(str(body["conversation_id"]))
        return 200, conv
