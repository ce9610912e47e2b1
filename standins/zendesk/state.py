"""The account a Zendesk stand-in holds: users with identities, tickets with
comments, soft-deleted and permanently deleted users, seeded from the demo
generator (names, e-mails, phones, order numbers inside free text)."""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from typing import Any

from connectors.demo.content import (
    AGENT_REPLIES,
    CUSTOMER_OPENERS,
    FOLLOW_UPS,
    fill_template,
)
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings, rectify

REDACTED = "▇"
AGENT_ID = 1
AGENT_EMAIL = "agent@example.com"
_REDACT = re.compile(r"<redact>(.*?)</redact>", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def user_id(customer: int) -> int:
    return 10_000 + customer


@dataclass
class Account(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    identities: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    soft_deleted: set[int] = field(default_factory=set)
    purged: set[int] = field(default_factory=set)
    _next_id: int = 900_000

    @classmethod
    def seeded(
        cls, customers: int = 20, *, tickets_each: int = 2, seed: int = 2026
    ) -> Account:
        account = cls()
        account.users[AGENT_ID] = {
            "id": AGENT_ID,
            "name": "Support Agent",
            "email": AGENT_EMAIL,
            "phone": None,
            "role": "agent",
            "active": True,
        }
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS, AGENT_REPLIES)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            uid = user_id(number)
            account.users[uid] = {
                "id": uid,
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "role": "end-user",
                "active": True,
                "locale": "en-GB",
                "time_zone": "London",
                "created_at": f"2025-01-{1 + number % 28:02d}T09:00:00Z",
                "updated_at": f"2025-01-{1 + number % 28:02d}T09:00:00Z",
            }
            account.identities[uid] = [
                account._identity(uid, "email", person.email, primary=True),
                account._identity(uid, "phone_number", person.phone, primary=False),
            ]
            for _ in range(tickets_each):
                tid = account._new_id()
                account.tickets[tid] = {
                    "id": tid,
                    "requester_id": uid,
                    "subject": fill_template(rng, "Order {order}: {product}", person),
                    "status": rng.choice(("open", "pending", "solved", "closed")),
                    "created_at": "2025-02-01T10:00:00Z",
                    "updated_at": "2025-02-02T10:00:00Z",
                }
                account.comments[tid] = [
                    account._comment(
                        uid if turn % 2 == 0 else AGENT_ID,
                        fill_template(rng, rng.choice(lines[turn]), person),
                    )
                    for turn in range(4)
                ]
        return account

    def _identity(
        self, uid: int, kind: str, value: str, *, primary: bool
    ) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "user_id": uid,
            "type": kind,
            "value": value,
            "verified": True,
            "primary": primary,
            "created_at": "2025-01-01T09:00:00Z",
        }

    def _comment(self, author: int, text: str) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "author_id": author,
            "body": text,
            "html_body": _html(text),
            "public": True,
            "created_at": "2025-02-01T10:00:00Z",
        }

    # -- reads, as the API and the tests see them ------------------------------
    def live_users(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                user
                for uid, user in sorted(self.users.items())
                if uid not in self.soft_deleted
            ]

    def search(self, query: str) -> list[dict[str, Any]]:
        """`email:x`, `phone:x` or a bare value, over active users."""
        kind, _, value = query.partition(":") if ":" in query else ("", "", query)
        value = value.strip().strip('"').lower()
        digits = re.sub(r"\D", "", value)
        found = []
        for user in self.live_users():
            email = (user.get("email") or "").lower()
            phone = re.sub(r"\D", "", user.get("phone") or "")
            if kind in ("", "email") and email == value:
                found.append(user)
            elif kind in ("", "phone") and digits and phone.endswith(digits[-9:]):
                found.append(user)
        return found

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        with self.lock:
            for user in self.users.values():
                if (user.get("email") or "").lower() == email.lower():
                    return user
        return None

    def tickets_of(self, uid: int) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tickets.values() if t["requester_id"] == uid]

    def comment(self, comment_id: int) -> tuple[int, dict[str, Any]] | None:
        with self.lock:
            for tid, comments in self.comments.items():
                for item in comments:
                    if item["id"] == comment_id:
                        return tid, item
        return None

    # -- writes -------------------------------------------------------------
    def update_user(self, uid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            user = self.users.get(uid)
            if user is None or uid in self.soft_deleted:
                return None
            for key in rectify(user, changes):
                kind = {"email": "email", "phone": "phone_number"}.get(key)
                for identity in self.identities.get(uid, []):
                    if (
                        identity["type"] == kind
                        and identity["primary"]
                        or (key == "phone" and identity["type"] == kind)
                    ):
                        identity["value"] = changes[key]
            return user

    def soft_delete(self, uid: int) -> dict[str, Any] | None:
        with self.lock:
            user = self.users.get(uid)
            if user is None or uid in self.soft_deleted:
                return None
            self.soft_deleted.add(uid)
            user["active"] = False
            return user

    def purge(self, uid: int) -> dict[str, Any] | None:
        """Permanent deletion: only of a soft-deleted user; their tickets stay."""
        with self.lock:
            if uid not in self.soft_deleted:
                return None
            user = self.users.pop(uid)
            self.identities.pop(uid, None)
            self.soft_deleted.discard(uid)
            self.purged.add(uid)
            return {
                **user,
                "name": "Permanently Deleted User",
                "email": None,
                "phone": None,
            }

    def redact(self, comment_id: int, ticket_id: int, marked: str) -> str | None:
        """Apply a comment redaction; None when unknown, "" when `marked` is
        not the comment's html_body with <redact> tags added."""
        with self.lock:
            found = self.comment(comment_id)
            if found is None or found[0] != ticket_id:
                return None
            _, item = found
            if _REDACT.sub(lambda m: m.group(1), marked) != item["html_body"]:
                return ""
            item["html_body"] = _REDACT.sub(
                lambda m: (
                    _TAGS.sub("", m.group(1))
                    and REDACTED * len(html.unescape(_TAGS.sub("", m.group(1))))
                ),
                marked,
            )
            item["body"] = html.unescape(_TAGS.sub("", item["html_body"]))
            return item["html_body"]

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "users": len(self.users) - len(self.soft_deleted),
                "soft_deleted": sorted(self.soft_deleted),
                "permanently_deleted": sorted(self.purged),
                "tickets": len(self.tickets),
                "redacted_comments": sum(
                    REDACTED in c["body"] for cs in self.comments.values() for c in cs
                ),
            }


def _html(text: str) -> str:
    escaped = html.escape(text, quote=False)
    return f'<div class="zd-comment" dir="auto"><p>{escaped}</p></div>'
