"""Benchmark: recall and precision of the one detector (issue 15), and its
speed.

`connectors.redaction.detect` (which `redact_pii` and the masking gateway
share) runs over the labelled corpus kept in the repo
(tests/pii_corpus/messages.jsonl, 2,000 seeded support messages) with each
message's subject's known identifiers, and is scored by the rule in
tests/pii_corpus/score.py: a labelled span is found when detected spans
cover all its letters and digits (the subject's own identifiers only by
spans marked `known`); a detection is correct when at least half of its
letters and digits lie in labelled PII or order numbers.

Prints recall per category and precision next to the targets (own e-mail,
phone and name >= 0.99; other phones, e-mails, cards, IBANs, addresses
>= 0.95; precision >= 0.9) with PASS/MISS, the same for a corpus generated
from another seed (the same formats, other values: the kept set is the one
the detector was tuned on), and messages/s of `detect` and `redact` (each
subject's identifiers compiled once beforehand, best of three passes).

    .venv/bin/python bench/pii_detection.py [--fresh-seed 99]

This is a benchmark, not a test: it exits 0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OWN_TARGET, OTHER_TARGET, PRECISION_TARGET = 0.99, 0.95, 0.9


def _verdicts(result: Any) -> list[tuple[str, float, float, bool]]:
    from tests.pii_corpus.score import OTHER, OWN

    rows = [(c, result.recall(c), OWN_TARGET) for c in OWN]
    rows += [(c, result.recall(c), OTHER_TARGET) for c in OTHER]
    rows.append(("precision", result.precision, PRECISION_TARGET))
    return [(name, value, target, value >= target) for name, value, target in rows]


def _rate(messages: list[dict[str, Any]], known: list[Any], run: Any) -> float:
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for message, identifiers in zip(messages, known, strict=True):
            run(message["text"], known=identifiers)
        best = max(best, len(messages) / (time.perf_counter() - started))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh-seed", type=int, default=99)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    from connectors.redaction import KnownIdentifiers, detect, redact
    from tests.pii_corpus import generate
    from tests.pii_corpus.score import load, score

    def known_of(message: dict[str, Any]) -> KnownIdentifiers:
        known = KnownIdentifiers(
            **{kind: tuple(v) for kind, v in message["known"].items()}
        )
        _ = known.pattern  # compiled once, outside the timing
        return known

    corpora = {
        "kept set (tests/pii_corpus/messages.jsonl)": load(),
        f"fresh seed {args.fresh_seed}": generate.generate(seed=args.fresh_seed),
    }
    detect("warm up: +44 7700 900123, jane@example.com", known=())
    misses = 0
    for title, messages in corpora.items():
        result = score(messages, lambda text, known: detect(text, known=known))
        print(f"\n== {title}: {len(messages)} messages")
        print(result.table())
        for name, value, target, ok in _verdicts(result):
            misses += not ok
            print(
                f"  {name:<14} {value:.4f}  target >= {target}  "
                f"{'PASS' if ok else 'MISS'}"
            )
        for category, examples in result.missed.items():
            print(f"  missed {category}: {examples[:3]}")
        if result.false_positives:
            print(f"  false positives: {result.false_positives[:5]}")
    messages = corpora["kept set (tests/pii_corpus/messages.jsonl)"]
    known = [known_of(m) for m in messages]
    detect_rate = _rate(messages, known, detect)
    redact_rate = _rate(messages, known, redact)
    print(
        f"\ndetect: {detect_rate:,.0f} messages/s; redact: {redact_rate:,.0f} "
        "messages/s (kept set, best of 3, one process)"
    )
    print(
        f"SUMMARY pii_detection: {misses} target(s) missed; "
        f"detect {detect_rate:,.0f} msg/s, redact {redact_rate:,.0f} msg/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
