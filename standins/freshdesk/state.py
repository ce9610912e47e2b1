"""The account a Freshdesk stand-in holds: contacts (soft-deleted or not),
their tickets (some older than the list's 30-day default window) and each
ticket's conversations, seeded from the demo generator (names, e-mails,
phones, order numbers inside free text); a hard delete removes the contact
with their tickets and conversations."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.demo.content import (
    AGENT_REPLIES,
    CUSTOMER_OPENERS,
    FOLLOW_UPS,
    fill_template,
)
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

AGENT_ID = 1
AGENT_EMAIL = "agent@example.com"
# By default the tickets list shows only tickets created in the last 30 days.
DEFAULT_WINDOW = timedelta(days=30)
CONTACT_FIELDS = ("name", "email", "phone", "mobile", "job_title")


def contact_id(customer: int) -> int:
    return 50_000 + customer


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class Account(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    hard_deleted: set[int] = field(default_factory=set)
    deleted_tickets: set[int] = field(default_factory=set)
    _next_id: int = 700_000

    @classmethod
    def seeded(
        cls, customers: int = 20, *, tickets_each: int = 3, seed: int = 2026
    ) -> Account:
        """Odd customers gave a phone, even ones a mobile; each has old
        tickets and one from this week."""
        account = cls()
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS)
        now = datetime.now(UTC).replace(microsecond=0)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            cid = contact_id(number)
            joined = _stamp(datetime(2024, 1 + number % 12, 1, 9, tzinfo=UTC))
            account.contacts[cid] = {
                "id": cid,
                "name": person.name,
                "email": person.email,
                "phone": person.phone if number % 2 else None,
                "mobile": None if number % 2 else person.phone,
                "job_title": None,
                "active": True,
                "deleted": False,
                "language": "en",
                "time_zone": "London",
                "created_at": joined,
                "updated_at": joined,
            }
            for index in range(tickets_each):
                opened = (
                    now - timedelta(days=2)
                    if index == tickets_each - 1
                    else datetime(2025, 1 + index, 10, 10, tzinfo=UTC)
                )
                text = fill_template(rng, rng.choice(lines[0]), person)
                tid = account._new_id()
                account.tickets[tid] = {
                    "id": tid,
                    "requester_id": cid,
                    "subject": fill_template(rng, "Order {order}: {product}", person),
                    "description": _html(text),
                    "description_text": text,
                    "status": rng.choice((2, 3, 4, 5)),
                    "priority": 1,
                    "created_at": _stamp(opened),
                    "updated_at": _stamp(opened + timedelta(hours=4)),
                }
                account.conversations[tid] = [
                    account._conversation(
                        tid,
                        AGENT_ID if turn % 2 == 0 else cid,
                        fill_template(rng, rng.choice(lines[1 + turn % 2]), person),
                        opened + timedelta(hours=turn + 1),
                    )
                    for turn in range(3)
                ]
        return account

    def _conversation(
        self, tid: int, author: int, text: str, when: datetime
    ) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "ticket_id": tid,
            "user_id": author,
            "body": _html(text),
            "body_text": text,
            "incoming": author != AGENT_ID,
            "private": False,
            "created_at": _stamp(when),
            "updated_at": _stamp(when),
        }

    # -- reads, as the API and the tests see them ------------------------------
    def list_contacts(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        """The contacts list with its filters: email (any case), phone and
        mobile (as stored), state; soft-deleted contacts only with
        state=deleted."""
        deleted = filters.get("state") == "deleted"
        with self.lock:
            found = []
            for contact in sorted(self.contacts.values(), key=lambda c: c["id"]):
                if contact["deleted"] != deleted:
                    continue
                email = filters.get("email")
                if email and (contact["email"] or "").lower() != email.lower():
                    continue
                if any(
                    filters.get(key) and contact[key] != filters[key]
                    for key in ("phone", "mobile")
                ):
                    continue
                found.append(dict(contact))
            return found

    def tickets_of(
        self, requester: int, *, updated_since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The requester's tickets; without `updated_since` only those
        created in the last 30 days, as the API's list does."""
        with self.lock:
            if updated_since is None:
                oldest = datetime.now(UTC) - DEFAULT_WINDOW
                keep = [
                    t
                    for t in self.tickets.values()
                    if _moment(t["created_at"]) >= oldest
                ]
            else:
                keep = [
                    t
                    for t in self.tickets.values()
                    if _moment(t["updated_at"]) >= updated_since
                ]
            return [dict(t) for t in keep if t["requester_id"] == requester]

    # -- writes -------------------------------------------------------------
    def update_contact(self, cid: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Raises KeyError (404) or ValueError naming a field (400)."""
        with self.lock:
            contact = self.contacts[cid]
            for key, value in changes.items():
                if key not in CONTACT_FIELDS:
                    raise ValueError(key)
                if key == "email" and any(
                    other["email"] == value and other["id"] != cid
                    for other in self.contacts.values()
                ):
                    raise ValueError(key)
            contact.update(changes)
            return dict(contact)

    def soft_delete(self, cid: int) -> bool:
        with self.lock:
            contact = self.contacts.get(cid)
            if contact is None or contact["deleted"]:
                return False
            contact["deleted"] = True
            return True

    def hard_delete(self, cid: int, *, force: bool) -> bool | None:
        """None when unknown; False when it is not soft-deleted and not
        forced; True once the contact, their tickets and those tickets'
        conversations are gone."""
        with self.lock:
            contact = self.contacts.get(cid)
            if contact is None:
                return None
            if not contact["deleted"] and not force:
                return False
            del self.contacts[cid]
            for tid in [t for t, v in self.tickets.items() if v["requester_id"] == cid]:
                del self.tickets[tid]
                self.conversations.pop(tid, None)
                self.deleted_tickets.add(tid)
            self.hard_deleted.add(cid)
            return True

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "contacts": sum(not c["deleted"] for c in self.contacts.values()),
                "soft_deleted": sorted(
                    c["id"] for c in self.contacts.values() if c["deleted"]
                ),
                "hard_deleted": sorted(self.hard_deleted),
                "tickets": len(self.tickets),
                "deleted_tickets": sorted(self.deleted_tickets),
            }


def _html(text: str) -> str:
    return f"<div>{html.escape(text, quote=False)}</div>"
