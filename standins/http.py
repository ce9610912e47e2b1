"""What every stand-in's HTTP side shares: a real server on loopback in a
thread, an account-wide budget per window (429 + Retry-After), an optional
5xx rate, latency and failing routes, a token that can be revoked after so
many calls, and call statistics the tests read. Each service adds its
routes, its auth check, its rate headers and its error bodies (a `Handler`
subclass) and what it holds (the `account` of its `Service`, with `summary`)."""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from standins.holdings import Holdings
from standins.oauth import TokenIssuer

# (method, path pattern, route name): the handler's `_<name>` answers it
Route = tuple[str, re.Pattern[str], str]


@dataclass(frozen=True)
class Raw:
    """A body that is not JSON (a CSV), as a route answers or receives it."""

    text: str
    content_type: str = "text/csv; charset=utf-8"


@dataclass
class Stats:
    calls: int = 0
    refused_429: int = 0
    early_retries: int = 0  # calls made before a 429's Retry-After ran out
    failed_5xx: int = 0
    by_route: dict[str, int] = field(default_factory=dict)


A = TypeVar("A", bound=Holdings)


@dataclass(kw_only=True)
class Service(Generic[A]):
    """One stand-in: what it holds (`account`) and how it answers."""

    account: A
    token: str
    per_window: int = 700
    window_seconds: float = 60.0
    # the step the times it states are rounded up to (Retry-After, a
    # window's reset): whole seconds, as vendors say them; a test with
    # sub-second windows sets a finer one, so the waits scale with them
    time_step: float = 1.0
    # the most any page holds: small, to exercise paging (a service whose
    # pages are as large as asked, Freshdesk, leaves it to the client)
    page_size: int = 2
    error_rate: float = 0.0
    latency: float = 0.0
    rate_headers: bool = True  # the service's remaining-budget headers
    revoke_after: int | None = None  # calls after which the token is revoked
    # an OAuth2 service's token endpoint (the handler's `token_path`); the
    # client secret is then `token`
    issuer: TokenIssuer | None = None
    failing: set[str] = field(default_factory=set)  # routes answering 503
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

    def summary(self) -> Any:
        """What `/_standin/state.json` shows (no auth)."""
        return self.account.summary()

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
            wait = self.stepped((window + 1) * self.window_seconds - now)
            self._retry_at = max(self._retry_at, now + wait)
            return wait

    def fails_now(self) -> bool:
        with self._lock:
            failed = self.error_rate > 0 and self._rng.random() < self.error_rate
            self.stats.failed_5xx += failed
            return failed

    def stepped(self, seconds: float) -> float:
        """`seconds` rounded up to the service's time step."""
        steps = math.ceil(round(seconds / self.time_step, 6))
        return steps * self.time_step

    def said(self, seconds: float) -> str:
        """A time as the service writes it in a header: whole seconds, or
        the step's decimals when it is finer."""
        value = self.stepped(seconds)
        if self.time_step >= 1:
            return str(int(value))
        return f"{value:.3f}".rstrip("0").rstrip(".")

    def reset(self) -> str:
        """Seconds until the current window ends."""
        return self.said(self.window_seconds - time.time() % self.window_seconds)

    def window_end(self) -> str:
        """When the current window ends, as a UNIX time."""
        return self.said((time.time() // self.window_seconds + 1) * self.window_seconds)

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.per_window - self._window[1])


class Handler(BaseHTTPRequestHandler, metaclass=ABCMeta):
    """One service's API: `routes`, `_authenticated`, `budget_headers` and
    the bodies of its refusals; each route is a method `_<name>(*ids, body)`
    answering (status, document), None for no body. A service that checks
    the token before the budget sets `auth_first`; one whose 429 has no
    Retry-After sets `retry_after` False; string ids: `numeric_ids` False;
    one that refuses over its budget with another status than 429 sets
    `limit_status` (Salesforce: 403). A request body that is not JSON
    reaches the route as `Raw`."""

    standin: Service[Any]
    routes: ClassVar[list[Route]] = []
    refusals: ClassVar[dict[int, Any]] = {}
    auth_first: ClassVar[bool] = False
    retry_after: ClassVar[bool] = True
    retry_after_header: ClassVar[str] = "Retry-After"  # its name, if sent
    numeric_ids: ClassVar[bool] = True
    limit_status: ClassVar[int] = 429
    token_path: ClassVar[str] = ""  # the OAuth2 token endpoint, if any
    protocol_version = "HTTP/1.1"
    query: dict[str, str]
    authorized: bool = False  # this call's token was accepted

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

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    @abstractmethod
    def _authenticated(self) -> bool:
        """Whether the call's credentials are the service's."""

    def _authorize(self) -> bool:
        self.authorized = self._authenticated()
        return self.authorized

    def budget_headers(self) -> dict[str, str]:
        return {}

    def refusal(self, status: int) -> Any:
        """The body of a refusal with `status` (429, 401, 503, 404)."""
        return self.refusals.get(status)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.authorized = False
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path == "/_standin/state.json":
            return self._send(200, self.standin.summary())
        standin = self.standin
        if parts.path == self.token_path and method == "POST" and standin.issuer:
            # a form-encoded token request (RFC 6749 §4.4, §6), not the API's
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            by_route = standin.stats.by_route
            by_route["token"] = by_route.get("token", 0) + 1
            origin = f"http://{self.headers.get('Host')}"
            status, answer = standin.issuer.answer(
                form,
                self.headers.get("Authorization", ""),
                secret=standin.token,
                url=origin,
            )
            return self._send(status, answer)
        if standin.latency:
            time.sleep(standin.latency)
        wait = standin.admit()
        if standin.revoke_after is not None and standin.stats.calls > (
            standin.revoke_after
        ):
            standin.token = "revoked"
        if self.auth_first and not self._authorize():
            return self._send(401, self.refusal(401))
        if wait is not None:
            return self._send(self.limit_status, self.refusal(429), retry_after=wait)
        if not self.auth_first and not self._authorize():
            return self._send(401, self.refusal(401))
        if standin.fails_now():
            return self._send(503, self.refusal(503))
        for route_method, pattern, name in self.routes:
            match = pattern.match(parts.path)
            if match and route_method == method:
                if name in standin.failing:
                    return self._send(503, self.refusal(503))
                standin.stats.by_route[name] = standin.stats.by_route.get(name, 0) + 1
                body = self._body(raw)
                ids = [int(g) if self.numeric_ids else g for g in match.groups()]
                status, document = getattr(self, f"_{name}")(*ids, body=body)
                return self._send(status, document)
        return self._send(404, self.refusal(404))

    def _body(self, raw: bytes) -> Any:
        if not raw:
            return {}
        kind = self.headers.get("Content-Type", "application/json")
        if kind.split(";")[0].strip().endswith("json"):
            return json.loads(raw)
        return Raw(raw.decode("utf-8", "replace"), kind)

    def _send(self, status: int, document: Any, *, retry_after: float = 0) -> None:
        kind = "application/json; charset=utf-8"
        if isinstance(document, Raw):
            data, kind = document.text.encode(), document.content_type
        else:
            data = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        if self.standin.rate_headers:
            for name, value in self.budget_headers().items():
                self.send_header(name, value)
        if retry_after and self.retry_after:
            self.send_header(self.retry_after_header, self.standin.said(retry_after))
        self.end_headers()
        self.wfile.write(data)

    def bearer_valid(self) -> bool:
        """Whether the call carries a live token of the stand-in's issuer."""
        issuer = self.standin.issuer
        authorization = self.headers.get("Authorization", "")
        return issuer is not None and issuer.valid(
            authorization, secret=self.standin.token
        )

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}{urlsplit(self.path).path}"


def routes(
    prefix: str, table: list[tuple[str, str, str]], suffix: str = r"(?:\.json)?"
) -> list[Route]:
    """Routes under `prefix`, each path with `suffix` (an optional `.json`)."""
    return [
        (method, re.compile(f"^{prefix}{path}{suffix}$"), name)
        for method, path, name in table
    ]


def starter(
    handler: type[Handler], seeded: Callable[[], A], **defaults: Any
) -> Callable[..., Service[A]]:
    """A service's `start(account=None, *, token, port=0, **options)`: a
    stand-in holding `account` (else `seeded()`), answering as `handler` on
    127.0.0.1 (`port` 0: a free one) in a thread; `options` (over the
    service's `defaults`) set `Service` fields."""

    def start(
        account: A | None = None, *, token: str, port: int = 0, **options: Any
    ) -> Service[A]:
        fields = {**defaults, **options}
        standin = Service(account=account or seeded(), token=token, **fields)
        return _serve(standin, handler, port)

    return start


def _serve(standin: Service[A], handler: type[Handler], port: int) -> Service[A]:
    bound = type(f"{handler.__name__}Bound", (handler,), {"standin": standin})
    standin.server = ThreadingHTTPServer(("127.0.0.1", port), bound)
    standin.server.daemon_threads = True
    threading.Thread(target=standin.server.serve_forever, daemon=True).start()
    return standin
