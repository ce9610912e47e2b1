"""A package a person can read (issue 16): index.html shows the data itself,
conversations as conversations, the CSV files are flat, stores and
categories carry the names the officer configured, and the subject is sent
to the supervisory authority of their own regime first."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zipfile import ZipFile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.actors import actor_system
from connectors.demo.config import (
    FILES_CONNECTOR_CONFIG,
    HELPDESK_DISCLOSURE,
    SQL_CONNECTOR_TABLES,
    TRANSCRIPTS_DISCLOSURE,
)
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite, build_transcripts
from connectors.disclosure import humanised
from connectors.services import connector_create
from dsr.models import AccessPackage
from dsr.packages.build import package_build
from dsr.packages.scan import PackageInput, StoreInput
from dsr.services.packages import access_package_build_and_close
from dsr.services.requests import request_verify
from tests.dsr.packages.conftest import (
    ASSISTANT_DISCLOSURE,
    add_task,
    jsonl,
    open_package,
)

SUBJECT = customer(2)  # a demo customer: tickets, messages, an AI chat


def _rows(archive: Any, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def _cells(archive: Any, name: str) -> list[str]:
    return [
        c for row in csv.reader(io.StringIO(archive.read(name).decode())) for c in row
    ]


@pytest.fixture
def demo_package(tmp_path: Path, make_request, django_capture_on_commit_callbacks):
    """The demo helpdesk (SQLite) and chat transcripts (JSON lines), their
    connectors as the demo configures them, and one access request for a
    demo customer run by the real executor to its package."""
    store = tmp_path / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=4))
    build_transcripts(tmp_path / "transcripts", 4)
    actor = actor_system("tests")
    connector_create(
        actor=actor,
        name="helpdesk",
        kind="sql",
        config={"dsn": f"sqlite:///{store}", "tables": SQL_CONNECTOR_TABLES},
        data_categories=[
            "contact",
            "support_ticket",
            "support_message",
            "ai_conversation",
        ],
        disclosure=HELPDESK_DISCLOSURE,
    )
    connector_create(
        actor=actor,
        name="chat-transcripts",
        kind="files",
        config={"folder": str(tmp_path / "transcripts"), **FILES_CONNECTOR_CONFIG},
        data_categories=["ai_conversation"],
        disclosure=TRANSCRIPTS_DISCLOSURE,
    )
    request = make_request(identity={"email": SUBJECT.email})
    with django_capture_on_commit_callbacks(execute=True):
        request_verify(actor=actor, request=request, method="staff_checked")
    request.refresh_from_db()
    assert request.status == "completed", request.status
    return request, open_package(AccessPackage.objects.get(request=request))


def test_demo_transcript_csv_is_flat_one_row_per_message(demo_package):
    # given the package of a demo customer's access request
    _, archive = demo_package
    data = json.loads(archive.read("data.json"))
    transcripts = next(
        s for s in data["stores"] if s["connector"] == "chat-transcripts"
    )
    (chat,) = transcripts["records"]
    messages = chat["data"]["messages"]
    (table,) = transcripts["tables"]

    # then no cell of the transcript CSV holds JSON
    assert not [c for c in _cells(archive, table["csv"]) if c[:1] in "[{"]
    rows = _rows(archive, table["csv"])
    # one row per message, the conversation's own columns repeated on each
    assert len(rows) == len(messages)
    assert [r["messages.role"] for r in rows] == [m["role"] for m in messages]
    assert [r["messages.text"] for r in rows] == [m["text"] for m in messages]
    assert {r["customer.email"] for r in rows} == {SUBJECT.email}
    assert {r["id"] for r in rows} == {chat["data"]["id"]}
    assert {r["summary"] for r in rows} == {chat["data"]["summary"]}
    # and data.json keeps the exact structure
    assert chat["data"]["customer"]["email"] == SUBJECT.email

    # the helpdesk's AI conversations hold their transcript as JSON text: the
    # CSV reads it as JSON too
    helpdesk = next(s for s in data["stores"] if s["connector"] == "helpdesk")
    ai = next(t for t in helpdesk["tables"] if t["location"] == "ai_conversations")
    assert not [c for c in _cells(archive, ai["csv"]) if c[:1] in "[{"]
    assert {"transcript.role", "transcript.text"} <= set(_rows(archive, ai["csv"])[0])


def test_demo_index_shows_the_subjects_data_and_conversations(demo_package):
    # given
    request, archive = demo_package
    index = archive.read("index.html").decode()
    data = json.loads(archive.read("data.json"))
    records = {s["connector"]: s["records"] for s in data["stores"]}
    text = html.unescape(index)

    # then the values themselves are on the page, not only counts
    contact = next(r for r in records["helpdesk"] if r["location"] == "customers")
    assert SUBJECT.name in text
    assert SUBJECT.phone in text
    assert contact["data"]["crm_id"] in text
    for ticket in (r for r in records["helpdesk"] if r["location"] == "tickets"):
        assert ticket["data"]["subject"] in text
    # the columns are headed in words
    assert '<th scope="col">Crm ID</th>' in index or ">CRM ID<" in index
    assert ">Created at<" in index

    # a conversation is a conversation: who spoke and what, turn by turn
    (chat,) = records["chat-transcripts"]
    conversations = re.findall(
        r'<article class="conversation">.*?</article>', index, re.S
    )
    block = next(c for c in conversations if chat["data"]["id"] in c)
    turns = re.findall(
        r'<li class="turn"><p class="who"><strong>(.*?)</strong>.*?'
        r'<p class="said">(.*?)</p>',
        block,
        re.S,
    )
    assert [(html.unescape(w), html.unescape(s)) for w, s in turns] == [
        (humanised(m["role"]), m["text"]) for m in chat["data"]["messages"]
    ]
    assert '"role"' not in block
    assert "{" not in html.unescape(block)

    # stores and categories as the officer named them, not as slugs
    assert "<h3>Support helpdesk</h3>" in index
    assert "<h3>Chats with our AI assistant</h3>" in index
    assert "Messages between you and our support team" in index
    assert "Your chat conversations" in index
    letter = archive.read("letter.html").decode()
    assert "<strong>Chats with our AI assistant</strong>" in letter
    assert "Your contact details" in letter
    assert "chat-transcripts" not in letter
    assert "ai_conversation" not in letter
    assert "support_message" not in letter
    assert request.reference in index


def _spec(records: list[dict[str, Any]], **changes: Any) -> PackageInput:
    content = jsonl(records)
    name = default_storage.save("dsr/readable/result.jsonl", ContentFile(content))
    stores = [
        StoreInput(
            connector="chat-transcripts",
            result_file=name,
            result_digest=hashlib.sha256(content).hexdigest(),
            data_categories=("ai_conversation",),
            disclosure=changes.pop("disclosure", ASSISTANT_DISCLOSURE),
        )
    ]
    return PackageInput(
        reference="DSR-READ",
        kind="access",
        regime=changes.pop("regime", "gdpr"),
        regime_label="GDPR",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        generated_at=datetime(2026, 1, 2, tzinfo=UTC),
        pseudonym="subject-1",
        controller_name="Example Ltd",
        supervisory_authority="The authority",
        stores=stores,
        **changes,
    )


def test_values_are_escaped_on_the_page():
    # given values that are markup
    records = [
        {
            "location": "notes",
            "key": "1",
            "category": "ai_conversation",
            "data": {
                "note": "<script>alert(1)</script>",
                "<b>key</b>": "x",
                "turns": [{"role": "<i>user</i>", "text": "</li><script>x()</script>"}],
            },
        },
        {
            "location": "notes",
            "key": "2",
            "category": "ai_conversation",
            "data": {"note": "<img src=x onerror=alert(2)>", "line": "a\nb"},
        },
    ]

    # when
    index = package_build(_spec(records)).file
    page = ZipFile(index).read("index.html").decode()

    # then no value is markup, and every one is shown escaped
    assert "<script>" not in page
    assert "<img" not in page
    assert "<i>user" not in page
    assert "<b>key" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;/li&gt;&lt;script&gt;x()&lt;/script&gt;" in page
    assert "a&#10;b" in page  # a line break kept, on one spooled line


def test_long_table_is_capped_on_the_page_with_the_csv_named():
    # given 30 conversations and 45 rows in one store, a page of 20 each
    records = [
        {
            "location": "chats.jsonl",
            "key": f"c{n}",
            "category": "ai_conversation",
            "data": {
                "id": f"chat-{n}",
                "messages": [{"role": "user", "text": f"t{n}"}],
            },
        }
        for n in range(30)
    ] + [
        {
            "location": "orders",
            "key": str(n),
            "category": "order",
            "data": {"id": n, "item": f"item-{n}"} | ({"late": True} if n > 3 else {}),
        }
        for n in range(45)
    ]

    # when
    archive = ZipFile(package_build(_spec(records, page_rows=20)).file)
    page = archive.read("index.html").decode()

    # then the page shows the first 20 of each, and says where the rest is
    assert page.count('<article class="conversation">') == 20
    assert "t19" in page
    assert "t20<" not in page
    assert "item-19<" in page
    assert "item-20<" not in page
    assert (
        "10 more records</strong> in <code>csv/chat-transcripts/chats.jsonl.csv" in page
    )
    assert "25 more records</strong> in <code>csv/chat-transcripts/orders.csv" in page
    # a column that first appeared late: earlier rows get an empty cell
    rows = re.findall(r"<tr>(.*?)</tr>", page.split('id="data"')[1], re.S)
    item_rows = [r for r in rows if "item-" in r]
    assert {r.count("<td>") for r in item_rows} == {3}
    # and the CSV files keep everything
    assert len(_rows(archive, "csv/chat-transcripts/orders.csv")) == 45
    assert len(_rows(archive, "csv/chat-transcripts/chats.jsonl.csv")) == 30


def test_names_fall_back_to_the_slug_in_words(answered_request):
    # given stores without a title or category names
    request = answered_request()

    # when
    access_package_build_and_close(request_id=request.pk)

    # then the pages write the slugs in words, never alone
    archive = open_package(AccessPackage.objects.get(request=request))
    letter = archive.read("letter.html").decode()
    index = archive.read("index.html").decode()
    assert "<strong>Helpdesk</strong>" in letter
    assert "<strong>Assistant</strong>: AI conversation" in letter
    assert "<h3>Helpdesk</h3>" in index
    assert "<h4>AI conversation</h4>" in index
    assert "<h4>Contact</h4>" in index
    assert ">Support ticket<" in index
    assert "support_ticket" not in letter


def test_configured_names_reach_data_json_and_the_withheld_section(
    answered_request, make_connector
):
    # given a store with a title and a category name, and one withheld
    request = answered_request(
        title="Support helpdesk", category_names={"contact": "Your contact details"}
    )
    held = make_connector("legal-archive", ASSISTANT_DISCLOSURE, ["ai_conversation"])
    add_task(
        request,
        held,
        status="exempted",
        exemptions=[
            {"location": "*", "basis": "Art. 17(3)(e)", "reason": "legal claim"}
        ],
    )

    # when
    access_package_build_and_close(request_id=request.pk)

    # then
    archive = open_package(AccessPackage.objects.get(request=request))
    data = json.loads(archive.read("data.json"))
    stores = {s["connector"]: s for s in data["stores"]}
    assert stores["helpdesk"]["title"] == "Support helpdesk"
    assert stores["helpdesk"]["category_names"] == {
        "contact": "Your contact details",
        "support_ticket": "Support ticket",
    }
    index = archive.read("index.html").decode()
    assert "<td>Legal archive</td>" in index  # the withheld store, in words
    assert "<h4>Your contact details</h4>" in index


@pytest.mark.parametrize(
    ("regime", "first", "absent"),
    [
        ("gdpr", "data protection authority of the EU/EEA country", "ico.org.uk"),
        ("uk_gdpr", "Information Commissioner", "EU/EEA"),
        ("ccpa", "California Privacy Protection Agency", "ico.org.uk"),
    ],
)
def test_letter_names_the_authority_of_the_requests_regime(
    regime, first, absent, answered_request
):
    # given a request under `regime`
    request = answered_request()
    request.regime = regime
    request.save(update_fields=["regime"])

    # when
    access_package_build_and_close(request_id=request.pk)

    # then its letter and index send the subject to that regime's authority
    archive = open_package(AccessPackage.objects.get(request=request))
    for page in ("letter.html", "index.html"):
        text = html.unescape(archive.read(page).decode())
        assert first in text, page
        assert absent not in text, page
