"""The company a Front stand-in holds: contacts with handles (e-mail and
phone), conversations with messages and teammates' comments, the trash,
and what was deleted for good. Seeded from the demo generator (names,
e-mails, phones, order numbers inside free text); customer 4 also has a
conversation in the trash, and customer 5 is copied (CC) on one of
customer 4's conversations, so a conversation can hold two people."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from typing import Any

from connectors.demo.content import (
    AGENT_REPLIES,
    CUSTOMER_OPENERS,
    FOLLOW_UPS,
    fill_template,
)
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

TEAMMATE = {
    "id": "tea_6r55a",
    "email": "support@example.com",
    "username": "support",
    "first_name": "Support",
    "last_name": "Agent",
}
TRASHED = "deleted"  # a conversation's status once in the trash
# PATCH /conversations/{id} takes these; "open" reopens it (unassigned here)
UPDATE_STATUSES = {
    "archived": "archived",
    "open": "unassigned",
    "deleted": TRASHED,
    "spam": "spam",
}
# the names the list's q[statuses][] takes, and the status each selects
LISTED = {
    "assigned": "assigned",
    "unassigned": "unassigned",
    "archived": "archived",
    "trashed": TRASHED,
}


def contact_id(customer: int) -> str:
    return f"crd_{customer:07x}"


def e164(phone: str) -> str:
    """A phone handle as Front keeps it: + and digits."""
    return "+" + "".join(ch for ch in phone if ch.isdigit())


@dataclass
class Company(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted_contacts: set[str] = field(default_factory=set)
    deleted_conversations: set[str] = field(default_factory=set)
    _next_id: int = 5_000_000

    @classmethod
    def seeded(cls, customers: int = 10, *, seed: int = 2026) -> Company:
        company = cls()
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            cid = contact_id(number)
            company.contacts[cid] = {
                "id": cid,
                "name": person.name,
                "description": f"Customer since 2025 ({person.crm_id})",
                "handles": [
                    {"handle": person.email.lower(), "source": "email"},
                    {"handle": e164(person.phone), "source": "phone"},
                ],
                "links": [],
                "is_private": False,
                "custom_fields": {},
            }
            for _ in range(2):
                texts = [fill_template(rng, rng.choice(t), person) for t in lines]
                company._conversation(cid, texts, status="archived")
        if customers >= 5:
            four, five = contact_id(4), contact_id(5)
            person = demo_customer(4, seed=seed)
            texts = [fill_template(rng, rng.choice(t), person) for t in lines]
            company._conversation(four, texts, status=TRASHED)
            texts = [fill_template(rng, rng.choice(t), person) for t in lines]
            company._conversation(four, texts, status="assigned", cc=five)
        return company

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{self._new_id():x}"

    def _recipient(self, cid: str, role: str) -> dict[str, Any]:
        contact = self.contacts[cid]
        email = next(h["handle"] for h in contact["handles"] if h["source"] == "email")
        return {
            "_links": {"related": {"contact": f"/contacts/{cid}"}},
            "name": contact["name"],
            "handle": email,
            "role": role,
        }

    def _conversation(
        self, cid: str, texts: list[str], *, status: str, cc: str | None = None
    ) -> None:
        conv = self._id("cnv")
        people = [cid] + ([cc] if cc else [])
        self.conversations[conv] = {
            "id": conv,
            "subject": "Your order",
            "status": status,
            "recipient": self._recipient(cid, "from"),
            "created_at": 1738400000.0 + len(self.conversations),
            "is_private": False,
            "contact_ids": people,  # whose conversation list shows it
        }
        found = []
        for index, text in enumerate(texts):
            inbound = index % 2 == 0
            recipients = [self._recipient(cid, "from" if inbound else "to")]
            if cc:
                recipients.append(self._recipient(cc, "cc"))
            found.append(
                {
                    "id": self._id("msg"),
                    "type": "email",
                    "is_inbound": inbound,
                    "created_at": 1738400000.0 + index,
                    "subject": "Your order",
                    "blurb": text[:40],
                    "body": f"<p>{html.escape(text, quote=False)}</p>",
                    "text": text,
                    "author": None if inbound else dict(TEAMMATE),
                    "recipients": recipients,
                }
            )
        self.messages[conv] = found
        name = self.contacts[cid]["name"]
        self.comments[conv] = [
            {
                "id": self._id("com"),
                "author": dict(TEAMMATE),
                "body": f"Refund approved for {name}.",
                "posted_at": 1738400100.0,
                "attachments": [],
                "is_pinned": False,
            }
        ]

    # -- reads --------------------------------------------------------------
    def contact_by(self, key: str) -> dict[str, Any] | None:
        """A contact by id or by a resource alias alt:<source>:<handle>
        (the handle as stored: assumed exact, as Front documents none)."""
        with self.lock:
            if key.startswith("alt:"):
                _, source, handle = key.split(":", 2)
                for contact in self.contacts.values():
                    if {"handle": handle, "source": source} in contact["handles"]:
                        return _copy(contact)
                return None
            found = self.contacts.get(key)
            return _copy(found) if found else None

    def conversations_of(
        self, cid: str, statuses: list[str] | None
    ) -> list[dict[str, Any]]:
        """Her conversations, newest first: those of `statuses` (q's names),
        else every one but those in the trash or spam (assumed default)."""
        wanted = (
            {LISTED[s] for s in statuses if s in LISTED}
            if statuses
            else {"assigned", "unassigned", "archived"}
        )
        with self.lock:
            found = [
                self._shown(conv)
                for conv in self.conversations.values()
                if cid in conv["contact_ids"] and conv["status"] in wanted
            ]
            return sorted(found, key=lambda c: -c["created_at"])

    def conversation(self, conv: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.conversations.get(conv)
            return self._shown(found) if found else None

    @staticmethod
    def _shown(conv: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in conv.items() if k != "contact_ids"}

    # -- writes -------------------------------------------------------------
    def update_contact(self, key: str, changes: dict[str, Any]) -> bool:
        with self.lock:
            found = self.contact_by(key)
            if found is None:
                return False
            contact = self.contacts[found["id"]]
            for name in ("name", "description"):
                if isinstance(changes.get(name), str):
                    contact[name] = changes[name]
            return True

    def delete_contact(self, key: str) -> bool:
        with self.lock:
            found = self.contact_by(key)
            if found is None:
                return False
            del self.contacts[found["id"]]
            self.deleted_contacts.add(found["id"])
            return True

    def update_conversation(self, conv: str, status: Any) -> str:
        """ "" when done, else why not ("not_found", "bad_request")."""
        with self.lock:
            found = self.conversations.get(conv)
            if found is None:
                return "not_found"
            if status is not None:
                if status not in UPDATE_STATUSES:
                    return "bad_request"
                found["status"] = UPDATE_STATUSES[status]
            return ""

    def delete_conversation(self, conv: str) -> str:
        """Permanent: "" when done, "not_found", or "not_trashed"."""
        with self.lock:
            found = self.conversations.get(conv)
            if found is None:
                return "not_found"
            if found["status"] != TRASHED:
                return "not_trashed"
            del self.conversations[conv]
            self.messages.pop(conv, None)
            self.comments.pop(conv, None)
            self.deleted_conversations.add(conv)
            return ""

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "contacts": len(self.contacts),
                "conversations": len(self.conversations),
                "in_trash": sorted(
                    c["id"]
                    for c in self.conversations.values()
                    if c["status"] == TRASHED
                ),
                "deleted_contacts": sorted(self.deleted_contacts),
                "deleted_conversations": sorted(self.deleted_conversations),
            }


def _copy(contact: dict[str, Any]) -> dict[str, Any]:
    return {**contact, "handles": [dict(h) for h in contact["handles"]]}
