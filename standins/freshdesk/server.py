"""The Freshdesk stand-in's HTTP side: the API v2 calls the freshdesk
definition makes, with Basic auth of the API key and "X" (401), an
account-wide budget per window (429 + Retry-After, X-RateLimit-* headers),
page/per_page pagination (pages as small as asked), the tickets list's 30-day default
window, soft and hard (force) delete, and `/_standin/state.json` (no auth).

    standin = start(token="api-key")        # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats
    standin.stop()
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from standins.freshdesk.state import AGENT_EMAIL, AGENT_ID, Account
from standins.http import Handler, Service, routes, starter

MAX_PER_PAGE = 100


StandIn = Service[Account]


def _invalid(field: str, message: str) -> tuple[int, Any]:
    return 400, {
        "description": "Validation failed",
        "errors": [{"field": field, "message": message, "code": "invalid_value"}],
    }


_NOT_FOUND = (404, None)


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        "/api/v2/",
        [
            ("GET", r"agents/me", "me"),
            ("GET", r"contacts", "contacts"),
            ("GET", r"contacts/(\d+)", "show_contact"),
            ("PUT", r"contacts/(\d+)", "update_contact"),
            ("DELETE", r"contacts/(\d+)", "soft_delete"),
            ("DELETE", r"contacts/(\d+)/hard_delete", "hard_delete"),
            ("GET", r"tickets", "tickets"),
            ("GET", r"tickets/(\d+)/conversations", "conversations"),
        ],
    )
    refusals = {
        401: {
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action.",
        },
        429: {"code": "too_many_requests", "message": "Rate limit exceeded."},
        503: {"code": "service_unavailable", "message": "Try again later."},
    }

    def _authenticated(self) -> bool:
        # the API key as the user name, any password ("X" by convention)
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.standin.token

    def budget_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Total": str(self.standin.per_window),
            "X-RateLimit-Remaining": str(self.standin.remaining()),
            "X-RateLimit-Used-CurrentRequest": "1",
        }

    def _page(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        try:
            page = int(self.query.get("page", 1))
            per_page = int(self.query.get("per_page", 30))
        except ValueError:
            return _invalid("page", "It should be a Positive Number")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            return _invalid("per_page", f"It should be between 1 and {MAX_PER_PAGE}")
        # per_page as asked (Freshdesk honours it up to 100): a test asks for
        # small pages by the connector's page_size
        return 200, items[(page - 1) * per_page : page * per_page]

    # -- routes ---------------------------------------------------------------
    def _me(self, body: Any) -> tuple[int, Any]:
        contact = {"name": "Support Agent", "email": AGENT_EMAIL}
        return 200, {"id": AGENT_ID, "available": True, "contact": contact}

    def _contacts(self, body: Any) -> tuple[int, Any]:
        state = self.query.get("state")
        if state not in (None, "verified", "unverified", "blocked", "deleted"):
            return _invalid("state", "It should be one of these values")
        return self._page(self.standin.account.list_contacts(self.query))

    def _show_contact(self, cid: int, body: Any) -> tuple[int, Any]:
        contact = self.standin.account.contacts.get(cid)
        return (200, dict(contact)) if contact else _NOT_FOUND

    def _update_contact(self, cid: int, body: Any) -> tuple[int, Any]:
        try:
            return 200, self.standin.account.update_contact(cid, dict(body))
        except KeyError:
            return _NOT_FOUND
        except ValueError as error:
            return _invalid(str(error), "It should be a valid, unused value")

    def _soft_delete(self, cid: int, body: Any) -> tuple[int, Any]:
        return (204, None) if self.standin.account.soft_delete(cid) else _NOT_FOUND

    def _hard_delete(self, cid: int, body: Any) -> tuple[int, Any]:
        force = self.query.get("force") == "true"
        done = self.standin.account.hard_delete(cid, force=force)
        if done is None:
            return _NOT_FOUND
        if not done:
            return _invalid("force", "The contact must be soft deleted first")
        return 204, None

    def _tickets(self, body: Any) -> tuple[int, Any]:
        account = self.standin.account
        since = self.query.get("updated_since")
        try:
            moment = datetime.fromisoformat(since) if since else None
            requester = int(self.query["requester_id"])
        except (KeyError, ValueError):
            return _invalid("requester_id", "requester_id and a valid updated_since")
        found = account.tickets_of(requester, updated_since=moment)
        if "description" not in self.query.get("include", "").split(","):
            for ticket in found:
                del ticket["description"], ticket["description_text"]
        return self._page(found)

    def _conversations(self, tid: int, body: Any) -> tuple[int, Any]:
        conversations = self.standin.account.conversations.get(tid)
        if conversations is None:
            return _NOT_FOUND
        return self._page([dict(c) for c in conversations])


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(_Handler, Account.seeded)
