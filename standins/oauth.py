"""An OAuth 2.0 token endpoint for stand-ins whose service issues access
tokens (RFC 6749): the client_credentials grant (§4.4) and the
refresh_token grant (§6), with the client's id and secret in the form body
or as HTTP Basic (§2.3.1), error answers in the shape of §5.2
(`{"error": "invalid_client", "error_description": ...}`), tokens that
expire, can be revoked all at once, and refresh tokens that can rotate or
be revoked.

The client secret is the stand-in's `token`: revoking it (`revoke_after`)
refuses the client at the endpoint and every token issued under it."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class TokenIssuer:
    client_id: str
    lifetime: int = 7200  # the answers' expires_in, in seconds
    refresh_token: str = ""  # the grant's refresh token ("": no such grant)
    rotate: bool = False  # a refresh gives a new refresh token; the old stops
    instance_url: str | None = None  # put in answers ("": the stand-in's URL)
    expires_in: bool = True  # said in answers (Salesforce's do not say it)
    fetched: int = 0  # tokens issued
    refused: int = 0  # token requests refused
    forms: list[dict[str, str]] = field(default_factory=list)  # grant types seen
    _issued: dict[str, tuple[float, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, form: dict[str, str], authorization: str, *, secret: str, url: str
    ) -> tuple[int, dict[str, Any]]:
        """The endpoint's answer to a token request (`form`, decoded)."""
        with self._lock:
            self.forms.append({"grant_type": form.get("grant_type", "")})
            client_id, client_secret = _client(form, authorization)
            if client_id != self.client_id or client_secret != secret:
                return self._refuse(
                    401, "invalid_client", "Client authentication failed"
                )
            grant = form.get("grant_type")
            if grant == "refresh_token":
                if not self.refresh_token or form.get("refresh_token") != (
                    self.refresh_token
                ):
                    return self._refuse(
                        400, "invalid_grant", "expired access/refresh token"
                    )
            elif grant != "client_credentials" or self.refresh_token:
                return self._refuse(400, "unsupported_grant_type", "")
            token = secrets.token_urlsafe(24)
            self._issued[token] = (time.time() + self.lifetime, secret)
            self.fetched += 1
            answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
            if self.expires_in:
                answer["expires_in"] = self.lifetime
            if grant == "refresh_token" and self.rotate:
                self.refresh_token = secrets.token_urlsafe(24)
                answer["refresh_token"] = self.refresh_token
            if self.instance_url is not None:
                answer["instance_url"] = self.instance_url or url
            return 200, answer

    def valid(self, authorization: str, *, secret: str) -> bool:
        """Whether a call's `Authorization` carries a live token."""
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            expires, issued_under = self._issued.get(token, (0.0, ""))
        return expires > time.time() and issued_under == secret

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (the grant stays)."""
        with self._lock:
            self._issued.clear()

    def revoke_grant(self) -> None:
        """The refresh token stops working, and the tokens it gave."""
        with self._lock:
            self.refresh_token = secrets.token_urlsafe(24)
            self._issued.clear()

    def _refuse(
        self, status: int, error: str, description: str
    ) -> tuple[int, dict[str, Any]]:
        self.refused += 1
        answer = {"error": error}
        if description:
            answer["error_description"] = description
        return status, answer


def _client(form: dict[str, str], authorization: str) -> tuple[str, str]:
    """The client's id and secret: HTTP Basic if sent, else the form's."""
    if authorization.startswith("Basic "):
        try:
            pair = base64.b64decode(authorization[6:]).decode()
        except ValueError:
            return "", ""
        client_id, _, client_secret = pair.partition(":")
        return unquote(client_id), unquote(client_secret)
    return form.get("client_id", ""), form.get("client_secret", "")
