"""How a pack is drawn: its listings, and what its rendering must not redo."""

from __future__ import annotations

import html
import re
import zlib
from collections import Counter
from typing import Any

import pytest

from evidence.packs.listing import Col, listing
from evidence.services import evidence_pack_generate
from tests.evidence.pack_helpers import flat_text, page_texts
from tests.evidence.test_evidence_pack import SYSTEM, closed_erasure  # noqa: F401


def _lines(markup: str) -> list[str]:
    """The text lines of a listing's header and rows."""
    blocks = re.findall(
        r'<div class="listing-(?:head|row)[^"]*">(.*?)</div>', markup, re.S
    )
    return [line for block in blocks for line in html.unescape(block).split("\n")]


def test_a_listing_pads_columns_right_aligns_numbers_and_wraps_the_last() -> None:
    columns = [Col("Store", 8), Col("Found", 5, True), Col("Note", 12)]

    markup = listing(columns, [(["crm", 7, "a note long enough to wrap"], False)])

    assert _lines(markup) == [
        "Store     Found  Note",
        "crm           7  a note long",
        "                 enough to",
        "                 wrap",
    ]


def test_a_listing_escapes_what_it_is_given() -> None:
    markup = listing([Col("Error")], [(["<b>boom</b> & more"], False)])

    assert "<b>" not in markup
    assert _lines(markup)[1] == "<b>boom</b> & more"


@pytest.mark.django_db
def test_the_pack_shows_each_table_as_a_listing_with_the_same_words(
    closed_erasure,  # noqa: F811
) -> None:
    result = evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    text = "\n".join(page_texts(result.content))
    flat = flat_text(result.content)
    # column headers of the store listings, and one store's row, in order
    for header in ("StoreActionOutcomeFoundChanged", "StoreLocationFoundChangedLeft"):
        assert header in flat, header
    assert "sample-desk-01" in text
    assert "PII redacted: body" in text


@pytest.mark.django_db
def test_no_stream_of_a_pack_is_deflated_twice(
    closed_erasure,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a count of what zlib is asked to deflate while a pack is made
    seen: Counter[bytes] = Counter()
    real = zlib.compressobj

    class Counting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._inner = real(*args, **kwargs)

        def compress(self, data: bytes) -> bytes:
            seen[data] += 1
            return self._inner.compress(data)

        def flush(self, *args: Any) -> bytes:
            return self._inner.flush(*args)

    monkeypatch.setattr(zlib, "compressobj", Counting)

    # when
    evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    # then pages, fonts and evidence.json are deflated once each (pydyf
    # hashes the file for its /ID by making every stream's bytes again);
    # only the object stream pydyf builds while writing is made twice
    assert len(seen) > 10
    assert sum(1 for count in seen.values() if count > 1) <= 1
