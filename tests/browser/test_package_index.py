"""The package's index.html read in a browser: on a 390 px phone the page
itself never scrolls sideways (a wide table scrolls in its own box), and
printed, every column of a table is on the paper."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from dsr.packages.build import package_build
from dsr.packages.scan import PackageInput, StoreInput
from tests.dsr.packages.conftest import ASSISTANT_DISCLOSURE, jsonl

WIDE = {f"column_{n}": f"value {n} of a wide row" for n in range(14)}
RECORDS = [
    {"location": "orders", "key": str(n), "category": "order", "data": WIDE}
    for n in range(3)
] + [
    {
        "location": "chats.jsonl",
        "key": "c1",
        "category": "ai_conversation",
        "data": {
            "id": "chat-1",
            "messages": [
                {"role": "user", "text": "Where is my parcel? " * 20},
                {"role": "assistant", "text": "It left yesterday."},
            ],
        },
    }
]


def _index(folder: Path) -> Path:
    content = jsonl(RECORDS)
    name = default_storage.save("dsr/browser/result.jsonl", ContentFile(content))
    spec = PackageInput(
        reference="DSR-2026-000042",
        kind="access",
        regime="gdpr",
        regime_label="GDPR",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        generated_at=datetime(2026, 1, 2, tzinfo=UTC),
        pseudonym="subject-1",
        controller_name="Example Ltd",
        supervisory_authority="The authority",
        stores=[
            StoreInput(
                connector="shop",
                result_file=name,
                result_digest=hashlib.sha256(content).hexdigest(),
                data_categories=("order", "ai_conversation"),
                disclosure={**ASSISTANT_DISCLOSURE, "title": "Our web shop"},
            )
        ],
    )
    built = package_build(spec)
    zipfile.ZipFile(built.file).extractall(folder)
    return folder / "index.html"


@pytest.mark.browser
def test_index_reads_on_a_phone_and_prints_every_column(
    settings, tmp_path, browser_page, screenshot_dir
):
    # given a package whose table is far wider than a phone
    settings.MEDIA_ROOT = str(tmp_path / "media")
    index = _index(tmp_path / "package")
    page = browser_page

    # when it is opened at 390 px
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(index.as_uri())
    page.screenshot(path=str(screenshot_dir / "package-index-390.png"), full_page=True)

    # then the page does not scroll sideways; the wide table scrolls in its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("section.records .scroll").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    assert page.get_by_role("cell", name="value 13 of a wide row").count() == 3
    # and the conversation is turns with who spoke, not JSON
    turns = page.locator("article.conversation li.turn")
    assert turns.count() == 2
    assert turns.nth(1).locator(".who").inner_text().startswith("Assistant")
    assert "{" not in page.locator("article.conversation").inner_text()

    # when it is printed (the width of A4 inside 20 mm margins, at 96 dpi)
    page.set_viewport_size({"width": 643, "height": 900})
    page.emulate_media(media="print")

    # then nothing is clipped in a scrolling box: the last column is on the paper
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "visible"
    last = page.get_by_role("cell", name="value 13 of a wide row").first
    assert last.evaluate("e => e.getBoundingClientRect().right") <= page.evaluate(
        "document.documentElement.clientWidth"
    )
    pdf = page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-"
