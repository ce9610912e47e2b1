"""The labelled PII corpus: seeded support messages with character spans.

Each line of `messages.jsonl` is one message of a support conversation:

    {"id": "m00001", "text": "...",
     "known": {"emails": [...], "phones": [...], "names": [...]},
     "spans": [{"start": 12, "end": 27, "label": "PHONE_NUMBER",
                "owner": "own" | "other" | "", "pii": true}, ...]}

`known` is what an erasure knows of the message's subject (the e-mail and
phone as her customer row holds them, her full name). Spans label the
subject's own e-mail, phone and name in the formats people write them
(`owner` "own"), other people's phones, e-mails, names, cards, IBANs and
addresses (`owner` "other"), order numbers (their own entity, not personal
data) and look-alikes that are not personal data (`pii` false: versions,
dates, amounts, tracking numbers, times, product codes, invoices...).

Regenerate (the test `test_pii_corpus.py` checks the file matches):

    python -m tests.pii_corpus.generate
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from tests.pii_corpus import people

SEED = 1507
COUNT = 2000
PATH = Path(__file__).with_name("messages.jsonl")

# {slot}s filled by `_fill`; the subject speaks or is spoken to.
TEMPLATES = (
    "Hi, this is {own_full}. My order {order} still hasn't arrived.",
    "Hello, {own_full} here. I was charged twice for {order}, can you check?",
    "Please call me on {own_phone}, I'm free after {time}.",
    "You can reach me at {own_email} or {own_phone}.",
    "My number changed, it's now {own_phone} (the old one was {other_phone}).",
    "Thanks {own_first}, I've escalated {order} to the warehouse.",
    "Sorry about that, {own_first}. A refund of {amount} is on its way.",
    "Hi {own_first}, I've sent a return label to {own_email}.",
    "We tried to call you on {own_phone} but couldn't get through, {own_first}.",
    "Dear Ms {own_last}, your {reference} has been closed.",
    "Mr {own_last} asked us to use {own_email} from now on.",
    "Thanks {own_first}.",
    "{own_first} said the parcel went to {address} instead.",
    "Please deliver to {address}, not to my office.",
    "My colleague {other_full} might call from {other_phone} about {order}.",
    "Forwarding this to {other_email}, cc {own_email}.",
    "I paid with card {card}, the statement shows {amount}.",
    "The refund should go to IBAN {iban}, account holder {own_full}.",
    "Bank details: {iban} ({other_full}).",
    "The app crashes on {date} since the update; I'm on {version}.",
    "Tracking number {tracking}, delivery window {time}.",
    "Invoice {invoice} lists {quantity} but I ordered {product_code}.",
    "Is {product_code} compatible with version {version}?",
    "Signed, {own_full_formal}",
    "{own_last_upper}, {own_first} - account email {own_email}",
    "Reply to {own_email_bracketed}, or text {own_phone}.",
    "Ring {other_phone} for the courier, or mail {other_email}.",
    "My neighbour {other_full} at {address} took the parcel.",
    "Card {card} was declined twice on {date}, the other one is {card_last4}.",
    "Use my partner's number {other_phone} if I don't answer {own_phone}.",
    "Order {order} placed on {date} for {amount}.",
    "ok thanks, {own_first_lower}",
    "{own_first} {own_last} - {own_phone} - {address}",
    "Please remove {own_email} and {own_phone} from your mailing list.",
    "Hi team, {other_full} ({other_email}) handles returns for us.",
)


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_message(rng, index) for index in range(1, count + 1)]


def _message(rng: random.Random, index: int) -> dict[str, Any]:
    first, last = rng.choice(people.FIRST), rng.choice(people.LAST)
    own_email = people.email(rng, first, last)
    own_phone = people.phone(rng)
    stored_phone = people.phone_stored(rng, own_phone)
    own = {"first": first, "last": last, "email": own_email, "phone": own_phone}
    text_parts: list[tuple[str, dict[str, Any] | None]] = []
    sentences = rng.choice((1, 1, 2, 2, 3))
    for position in range(sentences):
        template = rng.choice(TEMPLATES)
        if position:
            text_parts.append((" ", None))
        _fill(rng, template, own, text_parts)
    text, spans = "", []
    for piece, label in text_parts:
        if label is not None:
            spans.append({"start": len(text), "end": len(text) + len(piece), **label})
        text += piece
    return {
        "id": f"m{index:05d}",
        "text": text,
        "known": {
            "emails": [own_email],
            "phones": [stored_phone],
            "names": [f"{first} {last}"],
        },
        "spans": spans,
    }


def _label(label: str, owner: str = "", pii: bool = True) -> dict[str, Any]:
    return {"label": label, "owner": owner, "pii": pii}


def _fill(
    rng: random.Random,
    template: str,
    own: dict[str, Any],
    out: list[tuple[str, dict[str, Any] | None]],
) -> None:
    for piece in re.split(r"(\{\w+\})", template):
        if not piece.startswith("{"):
            if piece:
                out.append((piece, None))
            continue
        slot = piece[1:-1]
        if slot == "address":
            for text, labelled in people.address(rng):
                out.append((text, _label("ADDRESS", "other") if labelled else None))
            continue
        if slot == "own_full_formal":
            out.append((own["first"], _label("PERSON", "own")))
            out.append((" ", None))
            out.append((own["last"], _label("PERSON", "own")))
            continue
        out.append(_slot(rng, slot, own))


def _slot(
    rng: random.Random, slot: str, own: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    first, last = own["first"], own["last"]
    if slot == "own_full":
        return f"{first} {last}", _label("PERSON", "own")
    if slot == "own_first":
        return first, _label("PERSON", "own")
    if slot == "own_first_lower":
        return first.lower(), _label("PERSON", "own")
    if slot == "own_last":
        return last, _label("PERSON", "own")
    if slot == "own_last_upper":
        return last.upper(), _label("PERSON", "own")
    if slot == "own_email":
        return people.email_written(rng, own["email"]), _label("EMAIL_ADDRESS", "own")
    if slot == "own_email_bracketed":
        return own["email"], _label("EMAIL_ADDRESS", "own")
    if slot == "own_phone":
        return people.phone_written(rng, own["phone"]), _label("PHONE_NUMBER", "own")
    if slot == "other_phone":
        return people.phone_written(rng, people.phone(rng)), _label(
            "PHONE_NUMBER", "other"
        )
    if slot == "other_email":
        other_first = _other(rng, people.FIRST, first)
        other_last = _other(rng, people.LAST, last)
        return people.email(rng, other_first, other_last), _label(
            "EMAIL_ADDRESS", "other"
        )
    if slot == "other_full":
        name = f"{_other(rng, people.FIRST, first)} {_other(rng, people.LAST, last)}"
        return name, _label("PERSON", "other")
    if slot == "card":
        return people.card(rng), _label("CREDIT_CARD", "other")
    if slot == "iban":
        return people.iban(rng), _label("IBAN_CODE", "other")
    if slot == "order":
        order = rng.choice(
            (
                f"ORD-{rng.randint(100000, 999999)}",
                f"#{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}",
            )
        )
        return order, _label("ORDER_NUMBER", pii=False)
    if slot == "amount":
        return f"£{rng.randint(5, 400)}.{rng.randint(10, 99)}", _label(
            "AMOUNT", pii=False
        )
    if slot.upper() in people.DECOYS:
        return people.decoy(rng, slot.upper()), _label(slot.upper(), pii=False)
    raise KeyError(slot)


def _other(
    rng: random.Random, names: tuple[str, ...] | list[str], not_this: str
) -> str:
    while True:
        choice = rng.choice(names)
        if choice != not_this:
            return choice


def render(messages: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps(m, ensure_ascii=False, sort_keys=True) + "\n" for m in messages
    )


def main() -> None:
    PATH.write_text(render(generate()), encoding="utf-8")


if __name__ == "__main__":
    main()
