"""What an OpenAI stand-in's project holds: chat completions a support bot
stored (`store: true`), each with its input messages and the bot's answer,
tagged with metadata (the customer's id, the SHA-256 of her lower-cased
e-mail, the bot's conversation id), seeded from the demo generator (names,
e-mails, phones, order numbers inside free text), and a few evaluation runs
with no customer in their metadata. A deleted completion is gone: listed no
more, and its id answers 404."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.demo.content import BOT_LINES, USER_LINES, fill_template
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

PROJECT = "proj_Demo0Support0Bot"
MODEL = "gpt-4.1-mini-2025-04-14"
SYSTEM = "You are the support assistant of an online shop. Be brief and kind."
# Metadata: at most 16 pairs, keys of 64 characters, values of 512.
# Source: openai-openapi openapi.yaml, components.schemas.Metadata
MAX_PAIRS, MAX_KEY, MAX_VALUE = 16, 64, 512


def subject_id(number: int) -> str:
    """The customer's id as the bot writes it (the shop's CRM id)."""
    return demo_customer(number).crm_id


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def metadata_problem(metadata: Any) -> str:
    """Why `metadata` is not what the API takes, or ""."""
    if metadata is None:
        return ""
    if not isinstance(metadata, dict) or len(metadata) > MAX_PAIRS:
        return f"metadata must be an object of at most {MAX_PAIRS} pairs"
    for key, value in metadata.items():
        if len(key) > MAX_KEY:
            return f"metadata keys are at most {MAX_KEY} characters"
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            return f"metadata values are strings of at most {MAX_VALUE} characters"
    return ""


@dataclass
class Account(Holdings):
    """Everything the stand-in's project holds; every method takes the lock."""

    completions: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    _rng: random.Random = field(default_factory=lambda: random.Random(2026))

    @classmethod
    def seeded(
        cls, customers: int = 20, *, chats_each: int = 3, seed: int = 2026
    ) -> Account:
        account = cls(_rng=random.Random(seed))
        rng = random.Random(seed)
        start = datetime(2026, 9, 1, 9, tzinfo=UTC)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            for index in range(chats_each):
                turns = [
                    {"role": "system", "content": SYSTEM},
                    {
                        "role": "user",
                        "content": fill_template(rng, USER_LINES[1], person),
                    },
                    {
                        "role": "assistant",
                        "content": fill_template(rng, BOT_LINES[0], person),
                    },
                    {
                        "role": "user",
                        "content": fill_template(rng, rng.choice(USER_LINES), person),
                    },
                ]
                answer = fill_template(rng, rng.choice(BOT_LINES[1:]), person)
                metadata = {
                    "subject_id": person.crm_id,
                    "email_sha256": email_digest(person.email),
                    "conversation_id": f"conv-{number:04d}-{index}",
                    "channel": "web_chat",
                }
                when = start + timedelta(days=number, hours=index)
                account.store(turns, answer, metadata, created=when)
        for index in range(3):  # evaluation runs: no customer in their metadata
            when = start + timedelta(days=40, minutes=index)
            account.store(
                [{"role": "user", "content": "Summarise our returns policy."}],
                "Items can be returned within 30 days.",
                {"purpose": "eval", "run": f"eval-{index}"},
                created=when,
            )
        return account

    # -- writes ---------------------------------------------------------------
    def store(
        self,
        turns: list[dict[str, Any]],
        answer: str,
        metadata: dict[str, str] | None,
        *,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """A stored completion of `turns`, answered `answer`."""
        with self.lock:
            token = "".join(
                self._rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjk", k=29)
            )
            cid = f"chatcmpl-{token}"
            moment = created or datetime.now(UTC)
            self.completions[cid] = {
                "id": cid,
                "object": "chat.completion",
                "created": int(moment.timestamp()),
                "model": MODEL,
                "metadata": dict(metadata or {}),
                "request_id": f"req_{token.lower()}",
                "tool_choice": None,
                "usage": {
                    "prompt_tokens": 60,
                    "completion_tokens": 24,
                    "total_tokens": 84,
                },
                "seed": None,
                "top_p": 1.0,
                "temperature": 1.0,
                "presence_penalty": 0.0,
                "frequency_penalty": 0.0,
                "system_fingerprint": None,
                "input_user": None,
                "service_tier": "default",
                "tools": None,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "content": answer,
                            "role": "assistant",
                            "tool_calls": None,
                            "function_call": None,
                        },
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "response_format": None,
            }
            self.messages[cid] = [
                {
                    "id": f"{cid}-{index}",
                    "role": turn["role"],
                    "content": turn["content"],
                    "name": None,
                    "content_parts": None,
                }
                for index, turn in enumerate(turns)
            ]
            return dict(self.completions[cid])

    def delete(self, cid: str) -> bool:
        with self.lock:
            if self.completions.pop(cid, None) is None:
                return False
            self.messages.pop(cid, None)
            self.deleted.add(cid)
            return True

    # -- reads, as the API and the tests see them ------------------------------
    def listed(
        self, *, metadata: dict[str, str], order: str = "asc"
    ) -> list[dict[str, Any]]:
        """Stored completions whose metadata holds every pair, by creation."""
        with self.lock:
            found = [
                dict(c)
                for c in self.completions.values()
                if all(c["metadata"].get(k) == v for k, v in metadata.items())
            ]
        found.sort(key=lambda c: (c["created"], c["id"]), reverse=order == "desc")
        return found

    def completions_of(self, number: int) -> list[dict[str, Any]]:
        """The completions the bot tagged with customer `number`'s id."""
        return self.listed(metadata={"subject_id": subject_id(number)})

    def messages_of(self, cid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.messages.get(cid, [])]

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "completions": len(self.completions),
                "deleted": sorted(self.deleted),
            }
