"""The one detector measured on the labelled corpus (tests/pii_corpus): the
issue's targets, recall >= 0.99 for the subject's own e-mail, phone and
name, >= 0.95 for other pattern PII, precision >= 0.9 (matching rule in
tests/pii_corpus/score.py). bench/pii_detection.py prints the same table."""

from __future__ import annotations

import pytest

from connectors.redaction import Detected, KnownIdentifiers, detect
from tests.pii_corpus import generate
from tests.pii_corpus.score import OTHER, OWN, load, score


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load()


def test_the_corpus_file_is_what_the_generator_writes() -> None:
    assert generate.render(generate.generate()) == generate.PATH.read_text(
        encoding="utf-8"
    )


def test_the_corpus_holds_every_category_and_look_alikes(corpus: list[dict]) -> None:
    # given
    result = score(corpus, lambda text, known: [])

    # then: enough of each category to measure a recall of 0.99
    assert len(corpus) == generate.COUNT
    assert {c: result.total.get(c, 0) >= 150 for c in (*OWN, *OTHER)} == {
        c: True for c in (*OWN, *OTHER)
    }
    labels = {span["label"] for m in corpus for span in m["spans"] if not span["pii"]}
    assert labels >= {
        "ORDER_NUMBER",
        "DATE",
        "VERSION",
        "AMOUNT",
        "TRACKING",
        "TIME",
        "PRODUCT_CODE",
    }


def test_detection_meets_the_targets(corpus: list[dict]) -> None:
    # when
    result = score(corpus, lambda text, known: detect(text, known=known))

    # then
    recalls = {c: round(result.recall(c), 4) for c in (*OWN, *OTHER)}
    assert {c: r for c, r in recalls.items() if c in OWN and r < 0.99} == {}, (
        result.missed
    )
    assert {c: r for c, r in recalls.items() if c in OTHER and r < 0.95} == {}, (
        result.missed
    )
    assert result.precision >= 0.9, result.false_positives


def test_the_scorer_counts_misses_and_false_positives() -> None:
    # given: one message, her phone and a date
    text = "Call 07700 900123 on 2024-03-15."
    message = {
        "id": "x",
        "text": text,
        "known": {"emails": [], "phones": ["+447700900123"], "names": []},
        "spans": [
            {
                "start": 5,
                "end": 17,
                "label": "PHONE_NUMBER",
                "owner": "own",
                "pii": True,
            },
            {"start": 21, "end": 31, "label": "DATE", "owner": "", "pii": False},
        ],
    }
    found_as_pattern = KnownIdentifiers()  # a pattern hit does not count as hers

    # when: the detector flags the date and catches the phone only partly
    result = score(
        [message],
        lambda t, k: [
            Detected(5, 10, "PHONE_NUMBER", True),
            Detected(21, 31, "X", False),
        ],
    )
    whole = score([message], lambda t, k: detect(t, known=k))
    pattern_only = score([message], lambda t, k: detect(t, known=found_as_pattern))

    # then
    assert (result.found.get("own phone", 0), result.total["own phone"]) == (0, 1)
    assert (result.correct, result.detected) == (1, 2)
    assert (whole.found["own phone"], whole.correct, whole.detected) == (1, 1, 1)
    assert pattern_only.found.get("own phone", 0) == 0
