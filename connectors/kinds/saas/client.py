"""HTTP calls to one SaaS account: auth, base URL, timeouts, the shared rate
budget, 429 with Retry-After, back-off with jitter, and errors that name
what failed (auth, permission, network, rate limit) and never a subject's
data: messages carry the definition's path template, not the filled URL.

Redirects are not followed (credentials would go where staff never
configured), and a next-page URL must stay on the configured host.

A vendor may refuse for its rate limit with another status than 429
(Salesforce: 403 with errorCode REQUEST_LIMIT_EXCEEDED, for a daily
allocation, no Retry-After): `limit_status` and `limit_code` name it, and
the error names the rate limit (transient: retried later, not waited out
in the task). A usage header (`api-usage=n/m`) read on every answer stops
the calls once the allocation is used up, before the vendor refuses.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from connectors.base import ConnectorError
from connectors.errors import (
    REASON_AUTH,
    REASON_NETWORK,
    REASON_NOT_FOUND,
    REASON_PERMISSION,
    REASON_RATE_LIMIT,
    REASON_REFUSED,
    REASON_SERVER,
)
from connectors.kinds.saas.budget import MAX_WAIT_SECONDS, Budget
from connectors.kinds.saas.oauth import OAuth2, Token
from connectors.kinds.saas.templates import render, render_all, render_tree

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024  # of a refusal's body, read for its error code
SERVER_ERROR_RETRIES = 3
RATE_LIMIT_RETRIES = 6


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    status: int
    document: Any  # parsed JSON, or None
    headers: Mapping[str, str]


@dataclass
class Client:
    """Calls to one account, as one connector (`name`) makes them."""

    name: str
    base_url: str
    auth_header: str
    budget: Budget
    timeout: float = 15.0
    remaining_header: str = ""
    reset_header: str = ""
    reset_epoch: bool = False  # the reset header is a UNIX time (Intercom)
    reset_duration: bool = False  # ... or a duration, "6m0s" (OpenAI)
    # the remaining header says "used/limit" (Gorgias' 10/40), not a count left
    remaining_used_of_limit: bool = False
    # the vendor's window: with no reset header, a remaining count of 0
    # pauses every worker until the current one ends
    window_seconds: float = 60.0
    retry_after_header: str = "Retry-After"
    # other https hosts a next-page URL may point to ("*.api.frontapp.com")
    next_hosts: tuple[str, ...] = ()
    # a rate-limit refusal that is not a 429: its status and error code
    limit_status: int = 0
    limit_code: str = ""
    # a header saying how much of the allocation is used: (name, pattern
    # with two groups, used and allowed)
    usage_header: str = ""
    usage_pattern: str = ""
    sleep: Callable[[float], None] = time.sleep
    _used_up: str = ""  # the usage header's words once nothing is left
    # OAuth2 instead of `auth_header`: a Bearer token, renewed once on a 401
    oauth: OAuth2 | None = None
    # sent with every call beside the auth (OpenAI's OpenAI-Project)
    headers: tuple[tuple[str, str], ...] = ()

    def call(
        self,
        method: str,
        target: str,
        *,
        label: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        moved: str = "",
        content_type: str = "application/json",
        text: bool = False,
    ) -> Answer:
        """One call; `target` a path on the base URL or a next-page URL on
        its host. `body` is sent as JSON, or as it is when bytes (with
        `content_type`: a CSV upload); `text` answers the body as text, not
        parsed JSON (a CSV of results). 404 is answered (the caller knows
        what it means); other refusals raise ConnectorError. `moved` says
        what a redirect answer to this call means (Gorgias: a customer
        merged into another); it is still not followed."""
        url = self._url(target, params, label=label)
        if isinstance(body, bytes):
            data: bytes | None = body
        else:
            data = json.dumps(body).encode() if body is not None else None
            content_type = "application/json"
        server_errors = refusals = 0
        renewed = False
        token, fresh = self.oauth.token() if self.oauth else (None, False)
        while True:
            if self._used_up:
                raise ConnectorError(
                    f"{self.name}: rate limit: the API request allocation of "
                    f"{self._host} is used up ({self._used_up}); retried later",
                    permanent=False,
                )
            self.budget.take()
            try:
                status, raw, headers = self._send(
                    method, url, data, content_type, token
                )
            except OSError as error:
                server_errors += 1
                if server_errors > SERVER_ERROR_RETRIES:
                    reason = getattr(error, "reason", None) or type(error).__name__
                    raise ConnectorError(
                        f"{self.name}: {self._host} unreachable ({reason}) "
                        f"on {method} {label}",
                        permanent=False,
                        reason=REASON_NETWORK,
                    ) from None
                self.sleep(_backoff(server_errors))
                continue
            self._read_budget_headers(headers)
            if self._limit_refusal(status, raw):
                self.budget.count_refusal()
                raise ConnectorError(
                    f"{self.name}: rate limit: {self._host} answered {status} "
                    f"{self.limit_code} (its API request limit) on {method} "
                    f"{label}; retried later",
                    permanent=False,
                )
            if status == 429:
                refusals += 1
                self.budget.count_refusal()
                wait = _seconds(headers.get(self.retry_after_header.lower()))
                wait = self._reset_in(headers) if wait is None else wait
                # no word from the vendor: one window of our budget
                wait = self.budget.window if wait is None else wait
                if refusals > RATE_LIMIT_RETRIES or wait > MAX_WAIT_SECONDS:
                    raise ConnectorError(
                        f"{self.name}: rate limit: {self._host} answered 429 "
                        f"(Retry-After {wait:.0f} s) on {method} {label}",
                        permanent=False,
                        reason=REASON_RATE_LIMIT,
                    )
                self.budget.pause_for(wait)
                continue
            if status >= 500:
                server_errors += 1
                if server_errors > SERVER_ERROR_RETRIES:
                    raise ConnectorError(
                        f"{self.name}: {self._host} answered HTTP {status} "
                        f"{server_errors} times on {method} {label}",
                        permanent=False,
                        reason=REASON_SERVER,
                    )
                self.sleep(_backoff(server_errors))
                continue
            if status == 401 and self.oauth and token and not (fresh or renewed):
                # the cached token was revoked or expired early: a new one,
                # once (a refused grant raises, naming the token endpoint)
                token, renewed = self.oauth.renew(token), True
                continue
            refusal = self._refusal(status, method, label, moved=moved)
            if refusal is not None:
                raise refusal
            if status == 404:
                return Answer(status, None, headers)
            if text:
                return Answer(status, raw.decode("utf-8", "replace"), headers)
            return Answer(status, _parse(raw), headers)

    def send(
        self,
        request: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        method: str,
        text: bool = False,
    ) -> Answer:
        """A request of the definition (a delete, a `gone` check, a job's
        step) with its path, params and JSON body rendered for one record;
        `method` when the request names none."""
        params = render_all(request.get("params", {}), context)
        body = render_tree(request["body"], context) if "body" in request else None
        return self.call(
            request.get("method", method),
            render(request["path"], context, in_path=True),
            label=request["path"],
            params={k: str(v) for k, v in params.items()},
            body=body,
            moved=request.get("moved", ""),
            text=text,
        )

    def _limit_refusal(self, status: int, raw: bytes) -> bool:
        """The vendor's own rate-limit refusal (not a 429): its status and
        its error code in the body."""
        return bool(
            self.limit_status
            and status == self.limit_status
            and self.limit_code
            and self.limit_code.encode() in raw
        )

    def _refusal(
        self, status: int, method: str, label: str, *, moved: str = ""
    ) -> ConnectorError | None:
        where = f"{method} {label}"
        if status == 401:
            check = (
                "the API refused a new OAuth access token: check the app's "
                "scopes and that its grant stands"
                if self.oauth
                else "check the account e-mail and API token"
            )
            return ConnectorError(
                f"{self.name}: auth refused (HTTP 401) on {where}: {check}",
                permanent=True,
                reason=REASON_AUTH,
            )
        if status == 403:
            return ConnectorError(
                f"{self.name}: permission refused (HTTP 403) on {where}: the "
                "token's user lacks the role or scope for it",
                permanent=True,
                reason=REASON_PERMISSION,
            )
        if 300 <= status < 400 and moved:
            return ConnectorError(
                f"{self.name}: {where} answered {status}: {moved}", permanent=True
            )
        if 300 <= status < 400:
            return ConnectorError(
                f"{self.name}: {where} answered {status}: redirects are not "
                "followed; check the subdomain or base URL",
                permanent=True,
                reason=REASON_NOT_FOUND,
            )
        if 400 <= status < 500 and status != 404:
            return ConnectorError(
                f"{self.name}: {where} refused with HTTP {status}",
                permanent=True,
                reason=REASON_REFUSED,
            )
        return None

    @property
    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    def _url(self, target: str, params: Mapping[str, str] | None, *, label: str) -> str:
        if target.startswith(("http://", "https://")):
            if urlsplit(target).netloc != self._host and not self._next_host(target):
                raise ConnectorError(
                    f"{self.name}: a next page of {label} points off the "
                    "configured host; refused",
                    permanent=True,
                )
            url = target
        else:
            url = self.base_url.rstrip("/") + target
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def _next_host(self, url: str) -> bool:
        """Whether `url` is on one of the definition's other hosts (https,
        no port or credentials; `*.` matches one label)."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.port or parts.username:
            return False
        host = (parts.hostname or "").lower()
        for pattern in self.next_hosts:
            if pattern.startswith("*."):
                label, _, rest = host.partition(".")
                if label and rest == pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False

    def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        content_type: str = "application/json",
        token: Token | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header(
            "Authorization",
            f"Bearer {token.access_token}" if token else self.auth_header,
        )
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "PrivacyDesk-SaaS/1")
        for name, value in self.headers:
            request.add_header(name, value)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_BODY_BYTES + 1)
                return response.status, raw, _headers(response.headers)
        except urllib.error.HTTPError as error:
            headers = _headers(error.headers)
            try:
                raw = error.read(MAX_ERROR_BYTES) if self.limit_code else b""
            except OSError:
                raw = b""
            error.close()
            return error.code, raw, headers
        except http.client.HTTPException as error:
            raise OSError(type(error).__name__) from None

    def _read_budget_headers(self, headers: Mapping[str, str]) -> None:
        if self.usage_header and self.usage_pattern:
            said = headers.get(self.usage_header.lower(), "")
            usage = re.search(self.usage_pattern, said)
            if usage and int(usage.group(1)) >= int(usage.group(2)) > 0:
                self._used_up = usage.group(0)
        if not self.remaining_header:
            return
        remaining = self._remaining(headers.get(self.remaining_header.lower()))
        if remaining is not None and remaining <= 0:
            reset = self._reset_in(headers)
            if reset is None:
                reset = self.window_seconds - time.time() % self.window_seconds
            self.budget.pause_for(reset)

    def _remaining(self, value: str | None) -> float | None:
        """Calls left in the vendor's window, from its remaining header."""
        if not self.remaining_used_of_limit:
            return _seconds(value)
        used, _, limit = (value or "").partition("/")
        used_calls, most = _seconds(used.strip()), _seconds(limit.strip() or None)
        if used_calls is None or most is None:
            return None
        return most - used_calls

    def _reset_in(self, headers: Mapping[str, str]) -> float | None:
        """Seconds until the vendor's window resets, from its reset header."""
        if not self.reset_header:
            return None
        said = headers.get(self.reset_header.lower())
        if self.reset_duration:
            return _duration(said)
        reset = _seconds(said)
        if reset is not None and self.reset_epoch:
            reset = max(0.0, reset - time.time())
        return reset


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    if len(raw) > MAX_BODY_BYTES:
        raise ConnectorError("answer larger than 20 MB; refused", permanent=True)
    try:
        return json.loads(raw)
    except ValueError:
        raise ConnectorError(
            "answer is not JSON (a proxy's error page?)", permanent=False
        ) from None


def _headers(headers: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in (headers or {}).items()}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _duration(value: str | None) -> float | None:
    """Seconds in a duration as Go writes it ("1s", "6m0s", "12ms",
    "1h2m3.5s"); None when it is not one."""
    parts = _DURATION_PART.findall(value or "")
    if not parts or "".join(n + unit for n, unit in parts) != (value or "").strip():
        return None
    return sum(float(n) * _DURATION_UNITS[unit] for n, unit in parts)


def _backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s... (settings.SAAS_BACKOFF_BASE_MS) with full jitter,
    so retries of many tasks spread."""
    base = int(settings.SAAS_BACKOFF_BASE_MS) / 1000
    return random.uniform(0, base * 2 ** (attempt - 1)) + base / 5
