"""Recall and precision of the detector on the labelled corpus (shared by
`tests/connectors/test_pii_detection.py` and `bench/pii_detection.py`).

Matching rule (chosen for redaction, where what counts is whether the
characters are gone, not which label replaced them):

- A labelled span is *found* when the detected spans together cover every
  letter and digit of it. Labels need not agree (a card number caught as a
  phone is still redacted), but the subject's own e-mail, phone and name
  count only when covered by spans the detector marked `known`: those are
  what the erasure's verification searches for, so a pattern hit that
  happens to cover them does not count.
- A detected span is *correct* when at least half of its letters and
  digits lie inside labelled spans of personal data or order numbers
  (order numbers are an entity of their own). A hit on a look-alike
  (a date, version, amount, tracking number...) or on unlabelled text is a
  false positive. Precision = correct / detected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.redaction import Detected, KnownIdentifiers

PATH = Path(__file__).with_name("messages.jsonl")
# Recall categories: (label, owner) -> row name, in table order.
CATEGORIES = {
    ("EMAIL_ADDRESS", "own"): "own e-mail",
    ("PHONE_NUMBER", "own"): "own phone",
    ("PERSON", "own"): "own name",
    ("PHONE_NUMBER", "other"): "other phones",
    ("EMAIL_ADDRESS", "other"): "other e-mails",
    ("CREDIT_CARD", "other"): "cards",
    ("IBAN_CODE", "other"): "IBANs",
    ("ADDRESS", "other"): "addresses",
}
OWN = ("own e-mail", "own phone", "own name")
OTHER = ("other phones", "other e-mails", "cards", "IBANs", "addresses")

Detector = Callable[[str, KnownIdentifiers], list[Detected]]


def load(path: Path = PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@dataclass
class Score:
    found: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    detected: int = 0
    correct: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    missed: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    messages: int = 0

    def recall(self, category: str) -> float:
        return self.found.get(category, 0) / max(self.total.get(category, 0), 1)

    @property
    def precision(self) -> float:
        return self.correct / max(self.detected, 1)

    def table(self) -> str:
        lines = [f"{'category':<16}{'found':>8}{'of':>8}{'recall':>9}"]
        for category in (*OWN, *OTHER):
            lines.append(
                f"{category:<16}{self.found.get(category, 0):>8}"
                f"{self.total.get(category, 0):>8}{self.recall(category):>9.4f}"
            )
        lines.append(
            f"{'precision':<16}{self.correct:>8}{self.detected:>8}"
            f"{self.precision:>9.4f}"
        )
        return "\n".join(lines)


def _alnum(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if text[i].isalnum()}


def score(
    messages: Iterable[dict[str, Any]], detector: Detector, *, keep: int = 20
) -> Score:
    """Run `detector` over every message and score it (see the module's rule)."""
    result = Score()
    timed = 0.0
    for message in messages:
        text = message["text"]
        known = KnownIdentifiers(
            emails=tuple(message["known"]["emails"]),
            phones=tuple(message["known"]["phones"]),
            names=tuple(message["known"]["names"]),
        )
        started = time.perf_counter()
        found = detector(text, known)
        timed += time.perf_counter() - started
        result.messages += 1
        covered: set[int] = set()
        covered_known: set[int] = set()
        for item in found:
            covered.update(range(item.start, item.end))
            if item.known:
                covered_known.update(range(item.start, item.end))
        labelled: set[int] = set()
        for span in message["spans"]:
            if span["pii"] or span["label"] == "ORDER_NUMBER":
                labelled.update(range(span["start"], span["end"]))
            category = CATEGORIES.get((span["label"], span["owner"]))
            if category is None:
                continue
            need = _alnum(text, span["start"], span["end"])
            pool = covered_known if category in OWN else covered
            result.total[category] = result.total.get(category, 0) + 1
            if need <= pool:
                result.found[category] = result.found.get(category, 0) + 1
            else:
                missed = result.missed.setdefault(category, [])
                if len(missed) < keep:
                    missed.append(
                        f"{message['id']}: {text[span['start'] : span['end']]!r}"
                    )
        for item in found:
            chars = _alnum(text, item.start, item.end)
            result.detected += 1
            if len(chars & labelled) * 2 >= len(chars):
                result.correct += 1
            elif len(result.false_positives) < keep:
                result.false_positives.append(
                    (message["id"], f"{item.entity} {text[item.start : item.end]!r}")
                )
    result.seconds = timed
    return result
