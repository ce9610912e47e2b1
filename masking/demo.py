"""Realistic customer messages for masking's tests, demo and benchmark:
seeded, built from the demo stores' lines (connectors.demo.content), so
names, e-mails, phones and order numbers sit inside free text."""

from __future__ import annotations

import random

from connectors.demo.content import (
    CUSTOMER_OPENERS,
    FOLLOW_UPS,
    USER_LINES,
    Customer,
    fill_template,
)

_FILLERS = (
    "I've been a customer for years and this has never happened before.",
    "The tracking page hasn't changed since Monday, which is worrying.",
    "Honestly I just want to know what is going on with it.",
    "I paid by card 4111 1111 1111 1111, if that helps you find it.",
    "The courier said they left it with a neighbour, but nobody has it.",
    "I logged in from 203.0.113.42 and the account page showed an error.",
    "My bank details for the refund are GB82 WEST 1234 5698 7654 32.",
)


def sample_message(rng: random.Random, customer: Customer, *, length: int = 500) -> str:
    """One customer's message of about `length` characters (at least
    `length` - 100), its lines drawn with `rng`."""
    lines = [fill_template(rng, rng.choice(CUSTOMER_OPENERS), customer)]
    pools = (FOLLOW_UPS, USER_LINES, _FILLERS)
    while sum(len(line) + 1 for line in lines) < length - 60:
        lines.append(fill_template(rng, rng.choice(rng.choice(pools)), customer))
    return " ".join(lines)[: length + 60]
