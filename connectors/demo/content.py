"""The generated people and texts of the demo helpdesk store.

Customers derived from a seed and their id alone, and every row of the four
tables (customers, tickets, messages, AI conversations) filled from the
templates below: names, e-mails, phone and order numbers inside free text.
The same seed gives the same rows, byte for byte.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST_NAMES = (
    "Maria Ada Grace Linus Amara Sven Chloe Mateo Priya Jonas Aisha Oliver Lucia "
    "Kenji Fatima Noah Elena Tomasz Ingrid Samuel Leila Marco Hannah Diego Yara "
    "Felix Nadia Arjun Sofia Ewan Zara Pieter Camille Omar Freya Luca Mei Rafael"
).split()
LAST_NAMES = (
    "Garcia Lovelace Hopper Torvalds Okafor Lindqvist Dubois Fernandez Sharma "
    "Becker Khan Smith Rossi Tanaka Haddad Walsh Petrova Nowak Larsen Mensah "
    "Aziz Romano Schmidt Alvarez Nasser Weber Ivanova Patel Moreau Campbell "
    "Ahmed Jansen Laurent Farouk Berg Bianchi Chen Costa"
).split()
DOMAINS = ("example.com", "example.org", "example.net")
PRODUCTS = (
    "headphones",
    "coffee grinder",
    "running shoes",
    "desk lamp",
    "backpack",
    "smart watch",
    "phone case",
    "blender",
    "yoga mat",
    "e-reader",
)

CUSTOMER_OPENERS = (
    "Hi, this is {name}. My order {order} for the {product} still hasn't arrived.",
    "Hello, {name} here. I was charged twice for order {order}, can you check?",
    "The {product} from order {order} arrived broken. Please call me on {phone}.",
    "Can you change the delivery address on {order}? Reply to {email} please.",
    "I'd like to return the {product} (order {order}). My number is {phone}.",
    "Why was order {order} cancelled? You can reach me at {email} or {phone}.",
)
AGENT_REPLIES = (
    "Thanks {first}, I've looked into {order} and escalated it to our warehouse.",
    "Sorry about that, {first}. A refund for {order} is on its way (3-5 days).",
    "Hi {first}, I've sent a return label to {email}.",
    "We tried to call you on {phone} but couldn't get through, {first}.",
    "Order {order} is now marked for redelivery tomorrow, {first}.",
)
FOLLOW_UPS = (
    "Thanks! Also, my colleague {other} might call about it from {other_phone}.",
    "Great, thank you. Please send updates to {email}.",
    "That works. The tracking page still shows {order} as pending though.",
    "Perfect, thanks for the quick help.",
)
BOT_LINES = (
    "I can help with order {order}. Could you confirm the e-mail on the account?",
    "Thanks {first}. I found order {order} for the {product}; it shipped yesterday.",
    "I've noted your new phone number {phone} for delivery updates.",
    "Let me hand you over to a human agent about the refund for {order}.",
)
USER_LINES = (
    "Sure, it's {email}.",
    "Where is my {product}? Order {order}.",
    "My phone changed, it's now {phone}.",
    "I want a refund for {order}, it was a gift for {other}.",
)


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    phone: str
    crm_id: str


@dataclass(frozen=True)
class StoreSize:
    customers: int
    tickets_per_customer: int = 5
    messages_per_ticket: int = 4
    ai_conversations_per_customer: int = 1


def _phone_for(customer_id: int) -> str:
    """A unique mobile-style number per customer (so a phone names one person)."""
    return f"+44 7{700 + customer_id // 1_000_000:03d} {customer_id % 1_000_000:06d}"


def _phone(rng: random.Random) -> str:
    return _phone_for(rng.randint(1_000_000, 9_999_999))


def customer(customer_id: int, *, seed: int = 2026) -> Customer:
    """The customer with this id, derived from the seed alone (no store needed)."""
    rng = random.Random(seed * 1_000_003 + customer_id)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{customer_id}@{rng.choice(DOMAINS)}".lower()
    return Customer(
        customer_id,
        f"{first} {last}",
        email,
        _phone_for(customer_id),
        f"C-{100000 + customer_id}",
    )


def fill_template(rng: random.Random, template: str, c: Customer) -> str:
    """`template` filled with `c`'s details and a random order, product and
    other person."""
    other = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return template.format(
        name=c.name,
        first=c.name.split()[0],
        email=c.email,
        phone=c.phone,
        order=f"ORD-{rng.randint(100000, 999999)}",
        product=rng.choice(PRODUCTS),
        other=other,
        other_phone=_phone(rng),
    )


def rows(size: StoreSize, *, seed: int = 2026) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every row of the store as (table, values), parents before children."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ticket_id = message_id = 0
    for customer_id in range(1, size.customers + 1):
        c = customer(customer_id, seed=seed)
        created = start + timedelta(minutes=rng.randint(0, 900_000))
        yield "customers", (c.id, c.name, c.email, c.phone, c.crm_id, created)
        for _ in range(size.tickets_per_customer):
            ticket_id += 1
            opened = created + timedelta(hours=rng.randint(1, 9000))
            yield (
                "tickets",
                (
                    ticket_id,
                    customer_id,
                    fill_template(rng, "Order {order}: {product}", c),
                    rng.choice(("open", "pending", "solved", "closed")),
                    opened,
                ),
            )
            lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS, AGENT_REPLIES)
            for index in range(size.messages_per_ticket):
                message_id += 1
                author = ("customer", "agent")[index % 2]
                body = fill_template(rng, rng.choice(lines[index % len(lines)]), c)
                yield (
                    "messages",
                    (
                        message_id,
                        ticket_id,
                        author,
                        body,
                        opened + timedelta(minutes=7 * index),
                    ),
                )
        for index in range(size.ai_conversations_per_customer):
            turns = [
                {
                    "role": "user" if turn % 2 else "assistant",
                    "text": fill_template(
                        rng, rng.choice(USER_LINES if turn % 2 else BOT_LINES), c
                    ),
                }
                for turn in range(4)
            ]
            yield (
                "ai_conversations",
                (
                    customer_id * 10 + index,
                    c.email,
                    json.dumps(turns),
                    "support-assistant-v2",
                    created + timedelta(days=rng.randint(1, 400)),
                ),
            )
