"""The Gorgias stand-in's HTTP side: the REST calls gorgias.yaml makes, with
HTTP Basic of the user's e-mail and API key (401), an account-wide budget
per window (429 with Retry-after, X-Gorgias-Account-Api-Call-Limit as
"used/limit"), cursor pagination (`limit` at most 100, `cursor`,
`meta.next_cursor`; pages smaller than asked, to exercise paging), ticket
and customer deletion, customer merge (the old id answers 301), and
`/_standin/state.json` (no auth).

    standin = start(token="api-key")        # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats
    standin.stop()
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from standins.gorgias.state import AGENT_EMAIL, Account
from standins.http import Handler, Service, routes, starter

MAX_LIMIT = 100
WINDOW_SECONDS = 20.0
PER_WINDOW = 40  # API keys: 40 calls in a 20-second window

StandIn = Service[Account]


def _error(message: str, **data: Any) -> dict[str, Any]:
    return {"error": {"msg": message, "data": data or None}}


def _invalid(field: str, message: str) -> tuple[int, Any]:
    return 400, _error("Invalid request.", **{field: [message]})


_NOT_FOUND = (404, _error("Resource not found."))
_MERGED = (301, None)  # "Customer was merged with another one."


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        "/api/",
        [
            ("GET", r"account", "account"),
            ("GET", r"customers", "customers"),
            ("PUT", r"customers/merge", "merge"),
            ("GET", r"customers/(\d+)", "show_customer"),
            ("PUT", r"customers/(\d+)", "update_customer"),
            ("DELETE", r"customers/(\d+)", "delete_customer"),
            ("GET", r"tickets", "tickets"),
            ("GET", r"tickets/(\d+)", "show_ticket"),
            ("DELETE", r"tickets/(\d+)", "delete_ticket"),
            ("GET", r"messages", "messages"),
        ],
        suffix="/?",
    )
    refusals = {
        401: _error("Unauthorized. Invalid credentials."),
        404: _NOT_FOUND[1],
        429: _error("Too many requests. Retry later."),
        503: _error("Service unavailable."),
    }

    def _authenticated(self) -> bool:
        # the user's e-mail as the user name, the API key as the password
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, key = decoded.partition(":")
        return user == AGENT_EMAIL and key == self.standin.token

    def budget_headers(self) -> dict[str, str]:
        used = self.standin.per_window - self.standin.remaining()
        return {"X-Gorgias-Account-Api-Call-Limit": f"{used}/{self.standin.per_window}"}

    def _page(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """One page of `items` at the query's cursor: an opaque base64 of
        the offset, as small as the stand-in's page size."""
        try:
            limit = int(self.query.get("limit", 30))
            cursor = self.query.get("cursor")
            offset = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        except (ValueError, binascii.Error):
            return _invalid("cursor", "Invalid cursor.")
        if not 1 <= limit <= MAX_LIMIT:
            return _invalid("limit", f"Must be between 1 and {MAX_LIMIT}.")
        size = min(limit, self.standin.page_size)
        page = items[offset : offset + size]
        following = offset + size
        next_cursor = (
            base64.urlsafe_b64encode(str(following).encode()).decode()
            if following < len(items)
            else None
        )
        previous = (
            base64.urlsafe_b64encode(str(max(0, offset - size)).encode()).decode()
            if offset
            else None
        )
        return 200, {
            "object": "list",
            "uri": self.path.split("?")[0],
            "data": page,
            "meta": {"prev_cursor": previous, "next_cursor": next_cursor},
        }

    def _id(self, name: str) -> int | None:
        try:
            return int(self.query[name])
        except (KeyError, ValueError):
            return None

    # -- routes ---------------------------------------------------------------
    def _account(self, body: Any) -> tuple[int, Any]:
        return 200, {"domain": "demo", "status": {"status": "active"}}

    def _customers(self, body: Any) -> tuple[int, Any]:
        email = self.query.get("email")
        return self._page(self.standin.account.list_customers(email))

    def _show_customer(self, cid: int, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        if cid in account.merged:
            return _MERGED
        customer = account.customers.get(cid)
        return (200, dict(customer)) if customer else _NOT_FOUND

    def _update_customer(self, cid: int, body: Any) -> tuple[int, Any]:
        if cid in self.standin.account.merged:
            return _MERGED
        try:
            return 200, self.standin.account.update_customer(cid, dict(body))
        except KeyError:
            return _NOT_FOUND
        except ValueError as error:
            return _invalid(str(error), "Unknown field.")

    def _delete_customer(self, cid: int, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        if cid in account.merged:
            return _MERGED
        return (204, None) if account.delete_customer(cid) else _NOT_FOUND

    def _merge(self, body: Any) -> tuple[int, Any]:
        source, target = self._id("source_id"), self._id("target_id")
        if source is None or target is None:
            return _invalid("source_id", "source_id and target_id are required.")
        try:
            return 200, self.standin.account.merge(source, target)
        except KeyError:
            return _NOT_FOUND

    def _tickets(self, body: Any) -> tuple[int, Any]:
        cid = self._id("customer_id")
        if cid is None:
            return _invalid("customer_id", "A customer id is required here.")
        trashed = self.query.get("trashed", "true") != "false"
        return self._page(self.standin.account.tickets_of(cid, trashed=trashed))

    def _show_ticket(self, tid: int, body: Any) -> tuple[int, Any]:
        ticket = self.standin.account.tickets.get(tid)
        return (200, dict(ticket)) if ticket else _NOT_FOUND

    def _delete_ticket(self, tid: int, body: Any) -> tuple[int, Any]:
        return (204, None) if self.standin.account.delete_ticket(tid) else _NOT_FOUND

    def _messages(self, body: Any) -> tuple[int, Any]:
        tid = self._id("ticket_id")
        if tid is None:
            return _invalid("ticket_id", "A ticket id is required here.")
        return self._page(self.standin.account.messages_of(tid))


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(
    _Handler, Account.seeded, per_window=PER_WINDOW, window_seconds=WINDOW_SECONDS
)
