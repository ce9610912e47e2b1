"""The account a Gorgias stand-in holds: customers with their channels
(e-mail, phone), their tickets (one of each customer's moved to the trash by
an agent) and each ticket's messages, seeded from the demo generator (names,
e-mails, phones, order numbers inside free text). A deleted ticket or
customer is gone for good unless the account deletes tickets softly (a test
of the verification); a customer merged into another answers 301 by her old
id, her tickets and channels moved to the surviving customer."""

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

AGENT_ID = 7
AGENT_EMAIL = "agent@example.com"
AGENT = {"id": AGENT_ID, "email": AGENT_EMAIL, "name": "Support Agent"}
CUSTOMER_FIELDS = ("name", "email", "firstname", "lastname", "note", "language")


def customer_id(number: int) -> int:
    return 3_900 + number


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass
class Account(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)  # source -> target
    deleted_customers: set[int] = field(default_factory=set)
    deleted_tickets: set[int] = field(default_factory=set)
    # a DELETE of a ticket only trashes it (what the verification must catch)
    soft_ticket_delete: bool = False
    _next_id: int = 920_000

    @classmethod
    def seeded(
        cls, customers: int = 20, *, tickets_each: int = 3, seed: int = 2026
    ) -> Account:
        account = cls()
        rng = random.Random(seed)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            cid = customer_id(number)
            joined = datetime(2024, 1 + number % 12, 1, 9, tzinfo=UTC)
            first, _, last = person.name.partition(" ")
            account.customers[cid] = {
                "id": cid,
                "email": person.email,
                "name": person.name,
                "firstname": first,
                "lastname": last,
                "channels": [
                    account._channel("email", person.email, preferred=True),
                    account._channel("phone", person.phone, preferred=False),
                ],
                "language": "en",
                "timezone": "Europe/London",
                "note": None,
                "external_id": f"shop-{cid}",
                "created_datetime": _stamp(joined),
                "updated_datetime": _stamp(joined),
            }
            for index in range(tickets_each):
                opened = datetime(2025, 1 + index, 10, 10, tzinfo=UTC)
                tid = account._new_id()
                account.tickets[tid] = {
                    "id": tid,
                    "uri": f"/api/tickets/{tid}",
                    "customer": account._person(cid),
                    "subject": fill_template(rng, "Order {order}: {product}", person),
                    "status": "closed" if index else "open",
                    "channel": "email",
                    "via": "email",
                    "spam": False,
                    "created_datetime": _stamp(opened),
                    "updated_datetime": _stamp(opened + timedelta(hours=4)),
                    "closed_datetime": None,
                    # the last ticket an agent moved to the trash
                    "trashed_datetime": (
                        _stamp(opened + timedelta(days=1))
                        if index == tickets_each - 1
                        else None
                    ),
                }
                lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS)
                account.messages[tid] = [
                    account._message(
                        tid,
                        from_agent=turn % 2 == 1,
                        person=account._person(cid),
                        text=fill_template(rng, rng.choice(lines[turn]), person),
                        when=opened + timedelta(hours=turn),
                    )
                    for turn in range(3)
                ]
        return account

    def _channel(self, kind: str, address: str, *, preferred: bool) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "type": kind,
            "address": address,
            "preferred": preferred,
            "deleted_datetime": None,
        }

    def _person(self, cid: int) -> dict[str, Any]:
        customer = self.customers[cid]
        return {"id": cid, "email": customer["email"], "name": customer["name"]}

    def _message(
        self,
        tid: int,
        *,
        from_agent: bool,
        person: dict[str, Any],
        text: str,
        when: datetime,
    ) -> dict[str, Any]:
        mid = self._new_id()
        return {
            "id": mid,
            "uri": f"/api/tickets/{tid}/messages/{mid}",
            "ticket_id": tid,
            "channel": "email",
            "via": "email",
            "from_agent": from_agent,
            "sender": dict(AGENT if from_agent else person),
            "receiver": dict(person if from_agent else AGENT),
            "subject": None,
            "body_text": text,
            "body_html": f"<div>{html.escape(text, quote=False)}</div>",
            "created_datetime": _stamp(when),
            "sent_datetime": _stamp(when),
        }

    # -- reads, as the API and the tests see them ------------------------------
    def list_customers(self, email: str | None) -> list[dict[str, Any]]:
        """Customers by primary e-mail (any case), ordered by name."""
        with self.lock:
            found = [
                dict(c)
                for c in self.customers.values()
                if email is None or (c["email"] or "").lower() == email.lower()
            ]
            return sorted(found, key=lambda c: (c["name"] or "", c["id"]))

    def tickets_of(self, cid: int, *, trashed: bool = True) -> list[dict[str, Any]]:
        """The customer's tickets, newest first (the list's default order);
        trashed ones too unless `trashed` is False."""
        with self.lock:
            found = [
                dict(t)
                for t in self.tickets.values()
                if t["customer"]["id"] == cid
                and (trashed or t["trashed_datetime"] is None)
            ]
            return sorted(found, key=lambda t: t["created_datetime"], reverse=True)

    def messages_of(self, tid: int) -> list[dict[str, Any]]:
        """A ticket's messages, newest first (the list's default order)."""
        with self.lock:
            found = [dict(m) for m in self.messages.get(tid, [])]
            return sorted(found, key=lambda m: m["created_datetime"], reverse=True)

    def messages_from(self, cid: int) -> list[dict[str, Any]]:
        """Every message the customer sent, in any ticket still held."""
        with self.lock:
            return [
                dict(m)
                for messages in self.messages.values()
                for m in messages
                if m["sender"]["id"] == cid
            ]

    # -- writes -------------------------------------------------------------
    def update_customer(self, cid: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Raises KeyError (404) or ValueError naming a field (400)."""
        with self.lock:
            customer = self.customers[cid]
            for key in changes:
                if key not in CUSTOMER_FIELDS:
                    raise ValueError(key)
            customer.update(changes)
            return dict(customer)

    def delete_ticket(self, tid: int) -> bool:
        with self.lock:
            if tid not in self.tickets:
                return False
            if self.soft_ticket_delete:
                self.tickets[tid]["trashed_datetime"] = _stamp(datetime.now(UTC))
                return True
            del self.tickets[tid]
            self.messages.pop(tid, None)
            self.deleted_tickets.add(tid)
            return True

    def delete_customer(self, cid: int) -> bool:
        """Only the customer: her tickets stay (the API deletes them one by
        one; Gorgias documents no cascade)."""
        with self.lock:
            if self.customers.pop(cid, None) is None:
                return False
            self.deleted_customers.add(cid)
            return True

    def merge(self, source: int, target: int) -> dict[str, Any]:
        """Merge `source` into `target`: her channels and tickets move to
        the target, her id then answers 301. Raises KeyError (404)."""
        with self.lock:
            moving, staying = self.customers[source], self.customers[target]
            staying["channels"] = staying["channels"] + [
                {**channel, "preferred": False} for channel in moving["channels"]
            ]
            for ticket in self.tickets.values():
                if ticket["customer"]["id"] == source:
                    ticket["customer"] = self._person(target)
            del self.customers[source]
            self.merged[source] = target
            return dict(staying)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "customers": len(self.customers),
                "deleted_customers": sorted(self.deleted_customers),
                "merged": {str(k): v for k, v in sorted(self.merged.items())},
                "tickets": len(self.tickets),
                "trashed_tickets": sorted(
                    t for t, v in self.tickets.items() if v["trashed_datetime"]
                ),
                "deleted_tickets": sorted(self.deleted_tickets),
            }
