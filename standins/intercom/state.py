"""The workspace an Intercom stand-in holds: contacts, conversations with a
source message and parts, and deleted contacts kept through Intercom's
7-day grace period, then destroyed. Its clock can be moved on (`advance`)
so a test sees the grace end. Seeded from the demo generator."""

from __future__ import annotations

import html
import random
import time
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

GRACE_SECONDS = 7 * 24 * 3600
ADMIN_ID = "814860"


def contact_id(customer: int) -> str:
    return f"66a0{customer:020x}"


@dataclass
class Workspace(Holdings):
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_at: dict[str, float] = field(default_factory=dict)
    destroyed: set[str] = field(default_factory=set)
    offset: float = 0.0  # seconds the clock was moved on
    _next_id: int = 19_000_000

    @classmethod
    def seeded(cls, customers: int = 10, *, seed: int = 2026) -> Workspace:
        workspace = cls()
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS, AGENT_REPLIES)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            cid = contact_id(number)
            workspace.contacts[cid] = {
                "type": "contact",
                "id": cid,
                "role": "user",
                "external_id": f"cust-{number}",
                "email": person.email,
                "phone": person.phone,
                "name": person.name,
                "created_at": 1735722000 + number,
                "updated_at": 1735722000 + number,
                "last_seen_at": 1735722000 + number,
            }
            for _ in range(2):
                texts = [fill_template(rng, rng.choice(t), person) for t in lines]
                workspace._conversation(cid, texts)
        return workspace

    def _id(self) -> str:
        return str(self._new_id())

    def _conversation(self, cid: str, texts: list[str]) -> None:
        conversation_id = self._id()
        contact = {"type": "user", "id": cid}
        admin = {"type": "admin", "id": ADMIN_ID}
        self.conversations[conversation_id] = {
            "type": "conversation",
            "id": conversation_id,
            "title": None,
            "state": "closed",
            "open": False,
            "created_at": 1738400000,
            "updated_at": 1738400000,
            "contacts": {"type": "contact.list", "contacts": [contact]},
            "source": _message(self._id(), contact, texts[0], type_="conversation"),
            "parts": [
                _message(self._id(), contact if n % 2 == 0 else admin, text)
                for n, text in enumerate(texts[1:], start=1)
            ]
            + [{**_message(self._id(), admin, ""), "part_type": "close", "body": None}],
        }

    # -- time ---------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock on (a test ends the grace period)."""
        with self.lock:
            self.offset += seconds
            self._destroy_expired()

    def _destroy_expired(self) -> None:
        for cid, at in list(self.deleted_at.items()):
            if self.now() - at >= GRACE_SECONDS:
                del self.deleted_at[cid]
                self.contacts.pop(cid, None)
                self.destroyed.add(cid)

    # -- reads --------------------------------------------------------------
    def search_contacts(self, field_name: str, value: str) -> list[dict[str, Any]]:
        """Live contacts whose field equals `value` (deleted ones are not
        found by search)."""
        with self.lock:
            self._destroy_expired()
            wanted = value.strip().lower()
            return [
                dict(c)
                for cid, c in sorted(self.contacts.items())
                if cid not in self.deleted_at
                and str(c.get(field_name) or "").lower() == wanted
            ]

    def contact(self, cid: str) -> dict[str, Any] | None:
        """A contact by id: live, or deleted but still in its grace period."""
        with self.lock:
            self._destroy_expired()
            found = self.contacts.get(cid)
            if found is None:
                return None
            return {**found, "deleted": cid in self.deleted_at}

    def conversations_of(self, cid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                self.conversation(conv_id) or {}
                for conv_id, conv in sorted(self.conversations.items())
                if any(c["id"] == cid for c in conv["contacts"]["contacts"])
            ]

    def conversation(self, conv_id: str) -> dict[str, Any] | None:
        with self.lock:
            conv = self.conversations.get(conv_id)
            if conv is None:
                return None
            shown = {k: v for k, v in conv.items() if k != "parts"}
            shown["source"] = dict(conv["source"])
            shown["conversation_parts"] = {
                "type": "conversation_part.list",
                "conversation_parts": [dict(p) for p in conv["parts"]],
                "total_count": len(conv["parts"]),
            }
            return shown

    # -- writes -------------------------------------------------------------
    def update_contact(
        self, cid: str, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        with self.lock:
            found = self.contacts.get(cid)
            if found is None or cid in self.deleted_at:
                return None
            rectify(found, changes)
            return dict(found)

    def delete_contact(self, cid: str) -> bool:
        with self.lock:
            self._destroy_expired()
            if cid not in self.contacts or cid in self.deleted_at:
                return False
            self.deleted_at[cid] = self.now()
            return True

    def redact(self, body: dict[str, Any]) -> str:
        """Apply a redaction: "" when done, else Intercom's error code."""
        with self.lock:
            conv = self.conversations.get(str(body.get("conversation_id")))
            if conv is None:
                return "not_found"
            if body.get("type") == "source":
                message = conv["source"]
                if str(body.get("source_id")) != message["id"]:
                    return "not_found"
                if message["author"]["type"] not in ("user", "lead", "contact"):
                    return "conversation_part_not_redactable"
            elif body.get("type") == "conversation_part":
                wanted = str(body.get("conversation_part_id"))
                parts = [p for p in conv["parts"] if p["id"] == wanted]
                if not parts:
                    return "not_found"
                message = parts[0]
            else:
                return "parameter_invalid"
            if not message.get("body") or message.get("redacted"):
                return "conversation_part_not_redactable"
            # (assumed: the text is blanked; the part and its author stay)
            message["body"] = ""
            message["redacted"] = True
            return ""

    def summary(self) -> dict[str, Any]:
        with self.lock:
            self._destroy_expired()
            messages = [c["source"] for c in self.conversations.values()] + [
                p for c in self.conversations.values() for p in c["parts"]
            ]
            return {
                "contacts": len(self.contacts) - len(self.deleted_at),
                "deleted_in_grace": sorted(self.deleted_at),
                "destroyed": sorted(self.destroyed),
                "conversations": len(self.conversations),
                "redacted_messages": sum(bool(m.get("redacted")) for m in messages),
            }


def _message(
    mid: str, author: dict[str, str], text: str, *, type_: str = "conversation_part"
) -> dict[str, Any]:
    return {
        "type": type_,
        "id": mid,
        "part_type": "comment",
        "body": f"<p>{html.escape(text, quote=False)}</p>" if text else "",
        "author": dict(author),
        "created_at": 1738400000,
        "redacted": False,
    }
