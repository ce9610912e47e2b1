"""The Help Scout stand-in's HTTP side: the Mailbox API 2.0 calls the
helpscout definition makes, OAuth2 client credentials at /v2/oauth2/token
(standins.oauth: tokens that expire, 401 invalid_client), Bearer tokens on
every call (401), an account-wide budget per minute (429 with
X-RateLimit-Retry-After, X-RateLimit-*-Minute headers), HAL answers
(`_embedded`, `page`, `_links.next.href` keeping the query), List
Customers' containing e-mail query, List Conversations' active-only
default, and Delete Customer's 403 over 100 conversations.

    standin = start(token="app-secret")     # the client secret of CLIENT_ID
    standin.url, standin.account, standin.issuer, standin.stats
    standin.stop()
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

from standins.helpscout.state import CLIENT_ID, USER_EMAIL, USER_ID, Account
from standins.http import Handler, Service, routes, starter
from standins.oauth import TokenIssuer

StandIn = Service[Account]

_EMAIL_QUERY = re.compile(r'^\(email:"([^"]+)"\)$')
_CUSTOMER_QUERY = re.compile(r"^\(customerIds:(\d+)\)$")


def _error(status: int, message: str) -> dict[str, Any]:
    # the vnd.error shape of the API's refusals
    return {"logRef": f"standin-{status}", "message": message, "_embedded": {}}


_NOT_FOUND = (404, None)


class _Handler(Handler):
    standin: StandIn
    token_path = "/v2/oauth2/token"
    routes = routes(
        "/v2/",
        [
            ("GET", r"users/me", "me"),
            ("GET", r"customers", "customers"),
            ("GET", r"customers/(\d+)", "show_customer"),
            ("DELETE", r"customers/(\d+)", "delete_customer"),
            ("GET", r"customers/(\d+)/emails", "emails"),
            ("GET", r"customers/(\d+)/phones", "phones"),
            ("GET", r"conversations", "conversations"),
            ("DELETE", r"conversations/(\d+)", "delete_conversation"),
            ("GET", r"conversations/(\d+)/threads", "threads"),
        ],
        suffix="",
    )
    refusals = {
        401: _error(401, "Unauthorized"),
        429: _error(429, "Rate limit exceeded"),
        503: _error(503, "Service unavailable"),
    }
    retry_after_header = "X-RateLimit-Retry-After"

    def _authenticated(self) -> bool:
        return self.bearer_valid()

    def budget_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit-Minute": str(self.standin.per_window),
            "X-RateLimit-Remaining-Minute": str(self.standin.remaining()),
        }

    def _hal(self, name: str, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """One page of `items` (the stand-in's page size) as HAL, the next
        page's link keeping the request's parameters."""
        size = self.standin.page_size
        try:
            number = int(self.query.get("page", 1))
        except ValueError:
            return 400, _error(400, "page must be a number")
        pages = max(1, math.ceil(len(items) / size))
        links: dict[str, Any] = {"self": {"href": self._link(number)}}
        if number < pages:
            links["next"] = {"href": self._link(number + 1)}
        return 200, {
            "_embedded": {name: items[(number - 1) * size : number * size]},
            "page": {
                "size": size,
                "totalElements": len(items),
                "totalPages": pages,
                "number": number,
            },
            "_links": links,
        }

    def _link(self, number: int) -> str:
        return f"{self._base()}?{urlencode({**self.query, 'page': str(number)})}"

    # -- routes ---------------------------------------------------------------
    def _me(self, body: Any) -> tuple[int, Any]:
        return 200, {"id": USER_ID, "email": USER_EMAIL, "role": "owner"}

    def _customers(self, body: Any) -> tuple[int, Any]:
        query = self.query.get("query", "")
        match = _EMAIL_QUERY.match(query)
        if query and not match:
            return 400, _error(400, 'query: only (email:"...") is supported here')
        found = self.standin.account.find_customers(match.group(1) if match else "")
        return self._hal("customers", found)

    def _show_customer(self, cid: int, body: Any) -> tuple[int, Any]:
        try:
            return 200, self.standin.account.customer(cid)
        except KeyError:
            return _NOT_FOUND

    def _delete_customer(self, cid: int, body: Any) -> tuple[int, Any]:
        done = self.standin.account.delete_customer(cid)
        if done is None:
            return _NOT_FOUND
        if not done:
            return 403, _error(403, "Customer has more than 100 conversations")
        return 204, None

    def _entries(self, cid: int, kind: str) -> tuple[int, Any]:
        try:
            return self._hal(
                kind, self.standin.account.customer(cid)["_embedded"][kind]
            )
        except KeyError:
            return _NOT_FOUND

    def _emails(self, cid: int, body: Any) -> tuple[int, Any]:
        return self._entries(cid, "emails")

    def _phones(self, cid: int, body: Any) -> tuple[int, Any]:
        return self._entries(cid, "phones")

    def _conversations(self, body: Any) -> tuple[int, Any]:
        match = _CUSTOMER_QUERY.match(self.query.get("query", ""))
        if match is None:
            return 400, _error(400, "query: only (customerIds:ID) is supported here")
        status = self.query.get("status", "active")
        found = self.standin.account.conversations_of(
            int(match.group(1)), every_status=status == "all"
        )
        return self._hal("conversations", found)

    def _delete_conversation(self, conversation: int, body: Any) -> tuple[int, Any]:
        done = self.standin.account.delete_conversation(conversation)
        return (204, None) if done else _NOT_FOUND

    def _threads(self, conversation: int, body: Any) -> tuple[int, Any]:
        threads = self.standin.account.threads.get(conversation)
        if threads is None:
            return _NOT_FOUND
        return self._hal("threads", [dict(t) for t in threads])


_start = starter(_Handler, Account.seeded)


def start(
    account: Account | None = None, *, token: str, port: int = 0, **options: Any
) -> StandIn:
    """A stand-in whose OAuth2 app is CLIENT_ID with `token` as its secret
    (a token endpoint of its own, unless `issuer` is given)."""
    options.setdefault("issuer", TokenIssuer(client_id=CLIENT_ID, lifetime=172800))
    return _start(account, token=token, port=port, **options)
