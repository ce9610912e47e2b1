"""The account a Help Scout stand-in holds: customers (each with e-mail and
phone entries by id), their conversations (some closed: listed only with
status=all) and each conversation's threads, seeded from the demo generator
(names, e-mails, phones, order numbers inside free text). Deleting a
customer removes them with their conversations, and is refused (403) for a
customer with more than 100 conversations, as the API does."""

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

CLIENT_ID = "hs-app-2f9c41d7e8"  # the stand-in's OAuth2 app (App ID)
USER_ID = 9001
USER_EMAIL = "agent@example.com"
MAILBOX_ID = 310
# Delete Customer is refused for a customer with more conversations.
MAX_CONVERSATIONS_TO_DELETE = 100


def customer_id(number: int) -> int:
    return 480_000 + number


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Account(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    threads: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deleted_customers: set[int] = field(default_factory=set)
    deleted_conversations: set[int] = field(default_factory=set)
    _next_id: int = 2_100_000

    @classmethod
    def seeded(
        cls, customers: int = 20, *, conversations_each: int = 3, seed: int = 2026
    ) -> Account:
        """Odd customers gave a phone, every third a second e-mail; each has
        a closed conversation and open ones, three threads each."""
        account = cls()
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            cid = customer_id(number)
            first, _, last = person.name.partition(" ")
            joined = _stamp(datetime(2024, 1 + number % 12, 3, 9, tzinfo=UTC))
            emails = [{"id": account._new_id(), "value": person.email, "type": "home"}]
            if number % 3 == 0:
                work = person.email.replace("@", ".work@")
                emails.append({"id": account._new_id(), "value": work, "type": "work"})
            phones = (
                [{"id": account._new_id(), "value": person.phone, "type": "mobile"}]
                if number % 2
                else []
            )
            account.customers[cid] = {
                "id": cid,
                "firstName": first,
                "lastName": last,
                "organization": None,
                "jobTitle": None,
                "location": "London",
                "background": None,
                "gender": "unknown",
                "age": None,
                "photoType": "unknown",
                "createdAt": joined,
                "updatedAt": joined,
                "emails": emails,
                "phones": phones,
            }
            for index in range(conversations_each):
                opened = datetime(2025, 2 + index, 12, 10, tzinfo=UTC)
                conversation = account._new_id()
                account.conversations[conversation] = {
                    "id": conversation,
                    "number": 10_000 + conversation % 100_000,
                    "subject": fill_template(rng, "Order {order}: {product}", person),
                    "status": "closed" if index == 0 else "active",
                    "type": "email",
                    "state": "published",
                    "mailboxId": MAILBOX_ID,
                    "customerIds": [cid],
                    "primaryCustomer": {"id": cid, "email": person.email},
                    "preview": "",
                    "createdAt": _stamp(opened),
                    "closedAt": _stamp(opened + timedelta(days=1))
                    if index == 0
                    else None,
                }
                account.threads[conversation] = [
                    account._thread(
                        cid if turn % 2 == 0 else None,
                        person.email,
                        fill_template(rng, rng.choice(lines[turn % 3]), person),
                        opened + timedelta(hours=turn),
                    )
                    for turn in range(3)
                ]
                account.conversations[conversation]["preview"] = account.threads[
                    conversation
                ][-1]["body"][:60]
        return account

    def _thread(
        self, customer: int | None, email: str, text: str, when: datetime
    ) -> dict[str, Any]:
        by_customer = customer is not None
        author = (
            {"id": customer, "type": "customer", "email": email}
            if by_customer
            else {"id": USER_ID, "type": "user", "email": USER_EMAIL}
        )
        return {
            "id": self._new_id(),
            "type": "customer" if by_customer else "reply",
            "status": "active",
            "state": "published",
            "body": f"<p>{html.escape(text, quote=False)}</p>",
            "createdBy": author,
            "customer": {"id": customer, "email": email} if by_customer else None,
            "createdAt": _stamp(when),
        }

    # -- reads, as the API sees them -------------------------------------------
    def find_customers(self, email_part: str) -> list[dict[str, Any]]:
        """Customers with an e-mail *containing* `email_part` (any case), as
        List Customers' query (email:"...") does, e-mails and phones
        embedded."""
        part = email_part.lower()
        with self.lock:
            return [
                self.customer(cid)
                for cid, customer in sorted(self.customers.items())
                if any(part in e["value"].lower() for e in customer["emails"])
            ]

    def customer(self, cid: int) -> dict[str, Any]:
        with self.lock:
            stored = self.customers[cid]
            shown = {k: v for k, v in stored.items() if k not in ("emails", "phones")}
            shown["_embedded"] = {
                "emails": [dict(e) for e in stored["emails"]],
                "phones": [dict(p) for p in stored["phones"]],
            }
            return shown

    def conversations_of(self, cid: int, *, every_status: bool) -> list[dict[str, Any]]:
        """A customer's conversations; only active ones unless `every_status`
        (status=all), as List Conversations does."""
        with self.lock:
            return [
                dict(c)
                for cid_, c in sorted(self.conversations.items())
                if cid in c["customerIds"]
                and (every_status or c["status"] == "active")
                and cid_ not in self.deleted_conversations
            ]

    # -- writes -------------------------------------------------------------
    def delete_conversation(self, conversation: int) -> bool:
        with self.lock:
            if conversation not in self.conversations:
                return False
            del self.conversations[conversation]
            self.threads.pop(conversation, None)
            self.deleted_conversations.add(conversation)
            return True

    def delete_customer(self, cid: int) -> bool | None:
        """None when unknown; False when they have too many conversations
        (403); True once the customer and their conversations are gone."""
        with self.lock:
            if cid not in self.customers:
                return None
            theirs = [
                k for k, c in self.conversations.items() if cid in c["customerIds"]
            ]
            if len(theirs) > MAX_CONVERSATIONS_TO_DELETE:
                return False
            for conversation in theirs:
                self.delete_conversation(conversation)
            del self.customers[cid]
            self.deleted_customers.add(cid)
            return True

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "customers": len(self.customers),
                "deleted_customers": sorted(self.deleted_customers),
                "conversations": len(self.conversations),
                "deleted_conversations": len(self.deleted_conversations),
            }
