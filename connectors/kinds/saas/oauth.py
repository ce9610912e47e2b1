"""OAuth 2.0 access tokens for a definition whose auth is `oauth2` (RFC 6749).

A token is fetched from the token endpoint by a form-encoded POST (the
client_credentials grant, §4.4, or refresh_token, §6), kept in Django's
cache for every worker of the connector until shortly before `expires_in`
runs out, and sent as Bearer. The client drops a cached token the API
refuses (401) and fetches a new one, once (`renew`).

Tokens and the secrets that fetch them are never logged nor put in an
error: a refusal names the endpoint's `error` and `error_description`
(§5.2). A refresh answer with a new refresh token (rotation, §6) hands it to
`keep_secrets`, which stores it with the connector's encrypted secrets (the
old one may no longer work).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.core.cache import cache

from connectors.base import ConnectorError
from connectors.kinds.http import LOOPBACK_HOSTS

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME_SECONDS = 3600
MAX_MARGIN_SECONDS = 300
MAX_ANSWER_BYTES = 64 * 1024
WAIT_STEP_SECONDS = 0.2


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Token:
    access_token: str
    base_url: str = ""  # the answer's `base_url_from` field, when asked for


class OAuth2:
    """The access token of one connector: cached, fetched, renewed."""

    def __init__(
        self,
        *,
        name: str,
        scope: str,
        token_url: str,
        grant: str,
        secrets: Mapping[str, str],
        client_auth: str = "body",
        requested_scope: str = "",
        base_url_from: str = "",
        lifetime: int = DEFAULT_LIFETIME_SECONDS,
        timeout: float = 15.0,
        keep_secrets: Callable[[Mapping[str, str]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.token_url = token_url
        self.grant = grant
        self.secrets = dict(secrets)
        self.client_auth = client_auth
        self.requested_scope = requested_scope
        self.base_url_from = base_url_from
        self.lifetime = lifetime
        self.timeout = timeout
        self.keep_secrets = keep_secrets
        self.sleep = sleep
        # Per connector and client credentials: new ones never use the old
        # token (a digest of them, not them, names it).
        client = (
            self.secrets.get("client_id", ""),
            self.secrets.get("client_secret", ""),
        )
        fingerprint = hashlib.sha256(
            "\n".join((token_url, *client)).encode()
        ).hexdigest()[:16]
        self.key = f"saas-oauth:{scope}:{fingerprint}"

    # -- what the client asks ----------------------------------------------------
    def token(self) -> tuple[Token, bool]:
        """The current token, and whether it was fetched just now (a
        refused fresh token is not worth renewing)."""
        cached = self._cached()
        if cached is not None:
            return cached, False
        return self._fetch_once(), True

    def renew(self, stale: Token) -> Token:
        """A new token instead of `stale`, which the API refused: dropped
        from the cache (unless another worker renewed it meanwhile)."""
        cached = self._cached()
        if cached is not None and cached.access_token != stale.access_token:
            return cached
        cache.delete(self.key)
        return self._fetch_once()

    # -- the cache -----------------------------------------------------------------
    def _cached(self) -> Token | None:
        value = cache.get(self.key)
        if not isinstance(value, dict) or not value.get("access_token"):
            return None
        return Token(str(value["access_token"]), str(value.get("base_url", "")))

    def _fetch_once(self) -> Token:
        """One worker fetches (two refreshes at once may spend a rotating
        refresh token twice); the others wait for its token, or, once it has
        finished without one (the endpoint refused it), ask themselves."""
        lock = f"{self.key}:fetching"
        if not cache.add(lock, 1, timeout=int(self.timeout) + 5):
            waited = 0.0
            while waited < self.timeout:
                self.sleep(WAIT_STEP_SECONDS)
                waited += WAIT_STEP_SECONDS
                cached = self._cached()
                if cached is not None:
                    return cached
                if cache.get(lock) is None:
                    break
        try:
            return self._fetch()
        finally:
            cache.delete(lock)

    # -- the token endpoint --------------------------------------------------------
    def _fetch(self) -> Token:
        form = {"grant_type": self.grant}
        if self.grant == "refresh_token":
            form["refresh_token"] = self.secrets["refresh_token"]
        if self.requested_scope:
            form["scope"] = self.requested_scope
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": "PrivacyDesk-SaaS/1",
        }
        client_id, secret = self.secrets["client_id"], self.secrets["client_secret"]
        if self.client_auth == "basic":
            # §2.3.1: each form-urlencoded, then HTTP Basic
            pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(
                pair.encode()
            ).decode("ascii")
        else:
            form.update(client_id=client_id, client_secret=secret)
        status, answer = self._post(urlencode(form).encode(), headers)
        if status != 200:
            raise self._refused(status, answer)
        if not isinstance(answer, dict) or not isinstance(
            answer.get("access_token"), str
        ):
            raise ConnectorError(
                f"{self.name}: the token endpoint answered without an access_token",
                permanent=False,
            )
        token_type = str(answer.get("token_type", "bearer")).lower()
        if token_type != "bearer":
            raise ConnectorError(
                f"{self.name}: the token endpoint gave a {token_type!r} token; "
                "only Bearer tokens are supported",
                permanent=True,
            )
        self._keep_rotated(answer.get("refresh_token"))
        token = Token(answer["access_token"], self._base_url(answer))
        seconds = _seconds(answer.get("expires_in")) or self.lifetime
        keep_for = int(seconds - min(MAX_MARGIN_SECONDS, seconds / 10))
        if keep_for > 0:
            cache.set(
                self.key,
                {"access_token": token.access_token, "base_url": token.base_url},
                timeout=keep_for,
            )
        return token

    def _post(self, data: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(self.token_url, data=data, method="POST")
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.status, _json(response.read(MAX_ANSWER_BYTES))
        except urllib.error.HTTPError as error:
            raw = error.read(MAX_ANSWER_BYTES) if error.fp is not None else b""
            error.close()
            return error.code, _json(raw)
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or type(error).__name__
            raise ConnectorError(
                f"{self.name}: token endpoint {urlsplit(self.token_url).netloc} "
                f"unreachable ({reason})",
                permanent=False,
            ) from None

    def _refused(self, status: int, answer: Any) -> ConnectorError:
        if status == 429 or status >= 500:
            return ConnectorError(
                f"{self.name}: the token endpoint answered HTTP {status}",
                permanent=False,
            )
        error = description = ""
        if isinstance(answer, dict):
            error = _printable(answer.get("error"), 60)
            description = _printable(answer.get("error_description"), 200)
        named = error or f"HTTP {status}"
        if description:
            named += f" ({description})"
        return ConnectorError(
            f"{self.name}: auth refused (HTTP {status}): token endpoint refused: "
            f"{named}",
            permanent=True,
        )

    def _keep_rotated(self, new: Any) -> None:
        """A refresh answer's new refresh token replaces the old one, here
        and in the connector's secrets."""
        if self.grant != "refresh_token" or not isinstance(new, str) or not new:
            return
        if new == self.secrets.get("refresh_token"):
            return
        self.secrets["refresh_token"] = new
        if self.keep_secrets is None:
            logger.warning(
                "connector %s: its refresh token was rotated but cannot be kept",
                self.name,
            )
            return
        self.keep_secrets({"refresh_token": new})

    def _base_url(self, answer: Mapping[str, Any]) -> str:
        if not self.base_url_from:
            return ""
        url = answer.get(self.base_url_from)
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or not parts.hostname
            or parts.scheme not in ("https", "http")
            or (parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS)
            or parts.username
            or parts.password
        ):
            raise ConnectorError(
                f"{self.name}: the token answer's {self.base_url_from} is not an "
                "https URL",
                permanent=True,
            )
        return str(url).rstrip("/")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _printable(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable())[:limit]
