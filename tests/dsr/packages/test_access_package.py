"""Building the access package from real JSON-lines results (B17–B23)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import jsonschema
import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command

from audit.models import AuditEvent
from connectors.models import Connector
from dsr.models import AccessPackage, RequestNote
from dsr.packages.schema import SCHEMA_ID
from dsr.regimes import supervisory_authority
from dsr.services.packages import access_package_build_and_close
from tests.dsr.packages.conftest import (
    ASSISTANT_RECORDS,
    HELPDESK_DISCLOSURE,
    HELPDESK_RECORDS,
    add_task,
    open_package,
    stored_packages,
)


def _actions(request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id)).values_list(
            "action", flat=True
        )
    )


def _csv_rows(archive, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_package_holds_data_json_csv_index_and_letter(
    answered_request, django_capture_on_commit_callbacks
):
    # given
    request = answered_request()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = access_package_build_and_close(request_id=request.pk)

    # then the request is closed and the package recorded
    assert result == "completed"
    request.refresh_from_db()
    assert request.status == "completed"
    package = AccessPackage.objects.get(request=request)
    archive = open_package(package)
    assert sorted(archive.namelist()) == [
        "csv/assistant/ai_conversations.csv",
        "csv/helpdesk/customers.csv",
        "csv/helpdesk/messages.csv",
        "csv/helpdesk/tickets.csv",
        "data.json",
        "index.html",
        "letter.html",
        "schema.json",
    ]
    assert package.record_count == 6
    assert {e["name"] for e in package.contents} == set(archive.namelist())
    with default_storage.open(package.file, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == package.sha256
    assert package.size == default_storage.size(package.file)

    # data.json is valid against the schema shipped beside it
    data = json.loads(archive.read("data.json"))
    jsonschema.validate(data, json.loads(archive.read("schema.json")))
    assert data["schema"] == SCHEMA_ID
    assert data["request"]["reference"] == request.reference
    assert data["request"]["kind"] == "access"
    assert data["export"]["legal_basis"] == "GDPR Art. 15"
    assert data["subject"] == {"pseudonym": request.subject.pseudonym}
    stores = {s["connector"]: s for s in data["stores"]}
    assert [r["data"] for r in stores["helpdesk"]["records"]] == [
        r["data"] for r in HELPDESK_RECORDS
    ]
    assert [r["data"] for r in stores["assistant"]["records"]] == [
        r["data"] for r in ASSISTANT_RECORDS
    ]
    assert stores["helpdesk"]["categories"] == ["contact", "support_ticket"]
    assert {t["location"]: t["records"] for t in stores["helpdesk"]["tables"]} == {
        "customers": 1,
        "tickets": 2,
        "messages": 1,
    }

    # one CSV per store and table, columns the union of the records' keys
    # (in the order first seen; the executor writes each record's keys sorted)
    tickets = _csv_rows(archive, "csv/helpdesk/tickets.csv")
    assert list(tickets[0]) == ["customer_id", "id", "subject", "priority"]
    assert tickets == [
        {
            "customer_id": "17",
            "id": "301",
            "subject": "Where is my order?",
            "priority": "",
        },
        {"customer_id": "", "id": "302", "subject": "Refund", "priority": "high"},
    ]
    # a list of objects is a row per element, its keys as dotted columns
    conversations = _csv_rows(archive, "csv/assistant/ai_conversations.csv")
    assert conversations[0]["turns.role"] == "user"
    assert conversations[0]["turns.text"] == "Hi, é ü"
    assert conversations[1]["turns"] == ""  # an empty list: an empty cell
    assert conversations[1]["helpful"] == "true"
    assert conversations[1]["rating"] == ""

    # index.html tells a person what is inside, with counts per store
    index = archive.read("index.html").decode()
    assert request.reference in index
    assert "Yes, we process personal data about you" in index
    for name in ("letter.html", "data.json", "schema.json", "csv/helpdesk/tickets.csv"):
        assert name in index
    assert "letter.pdf" not in index  # made on demand, not part of the ZIP
    assert "How to open the files" in index

    # the closing e-mail is the "ready" one, with the download page
    assert len(mail.outbox) == 1
    assert "Your data is ready" in mail.outbox[0].subject
    assert "/privacy/package/" in mail.outbox[0].body
    assert ["access_package.built", "request.closed"] == [
        a for a in _actions(request) if a in ("access_package.built", "request.closed")
    ]


def test_letter_gives_every_article_15_item(answered_request):
    # given
    request = answered_request()

    # when
    access_package_build_and_close(request_id=request.pk)

    # then
    letter = open_package(AccessPackage.objects.get(request=request)).read(
        "letter.html"
    )
    text = letter.decode()
    expected = [
        # (a) purposes, with the legal basis where recorded
        "Answering your support questions",
        "legitimate interests, Art. 6(1)(f)",
        "Answering you with our AI assistant",
        # (b) categories, in words (no category name is configured)
        "Contact, Support ticket",
        "AI conversation",
        # (c) recipients: named, and a category with its recorded reason
        "Helpdesk Cloud Ltd (processor), Ireland",
        "Model Hosting GmbH (processor)",
        "parcel couriers",
        "identifying the recipients is impossible",
        "the warehouse picks a courier per parcel",
        # (d) retention
        "Three years after your last ticket",
        "90 days after the conversation",
        # (e) rights
        "rectification",
        "erasure",
        "restriction",
        "objection",
        # (f) complaint
        "right to lodge a complaint with a supervisory authority",
        # (g) source
        "You, when you wrote to our support team",
        # (h) automated decision-making: logic, significance, consequences
        "no decision about you is made solely by automated means",
        "A score from order value and past refunds decides auto-approval",
        "Small refunds are approved without a person",
        "A refund may be refused until a person reviews it",
        # 15(2) transfers and safeguards
        "United States",
        "EU Standard Contractual Clauses (2021/914)",
        "the data stays in the EU",
    ]
    for item in expected:
        assert item in text, item
    assert supervisory_authority("gdpr").replace("'", "&#x27;") in text
    assert "we process personal data about you" in text
    assert request.reference in text


def test_missing_disclosure_item_refuses_the_package_and_keeps_nothing(
    answered_request, media, django_capture_on_commit_callbacks
):
    # given a store whose retention period nobody recorded
    request = answered_request(retention="")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = access_package_build_and_close(request_id=request.pk)

    # then nothing is stored, the request stays open, and staff see why
    assert result == "refused"
    assert not AccessPackage.objects.filter(request=request).exists()
    assert stored_packages(media) == []
    request.refresh_from_db()
    assert request.status == "in_progress"
    note = RequestNote.objects.get(request=request)
    assert "helpdesk: disclosure.retention is empty" in note.text
    assert '"not_applicable"' in note.text
    event = AuditEvent.objects.get(action="access_package.refused")
    assert event.data["problems"] == [
        "helpdesk: disclosure.retention is empty: fill it in or mark it "
        '{"not_applicable": "<reason>"}'
    ]
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"recipients": [{"category": "marketing partners"}]},
            "helpdesk: disclosure.recipients[0] gives only the category "
            "'marketing partners': name the recipient",
        ),
        (
            {"automated_decision_making": {"logic": "a score", "significance": "x"}},
            "helpdesk: disclosure.automated_decision_making[0] lacks consequences",
        ),
        (
            {"transfers": {"not_applicable": " "}},
            "helpdesk: disclosure.transfers is marked not applicable without a reason",
        ),
        ({"purposes": []}, "helpdesk: disclosure.purposes is empty"),
        ({"source": None}, "helpdesk: disclosure.source is empty"),
    ],
)
def test_incomplete_disclosure_is_refused_with_a_clear_reason(
    answered_request, changes, problem
):
    # given
    request = answered_request(**changes)

    # when
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "refused"
    event = AuditEvent.objects.get(action="access_package.refused")
    assert any(p.startswith(problem) for p in event.data["problems"]), event.data
    assert not AccessPackage.objects.exists()


def test_not_applicable_with_a_reason_is_accepted(answered_request):
    # given
    request = answered_request(
        recipients={"not_applicable": "we disclose support data to no one"}
    )

    # when
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "completed"
    letter = open_package(request.access_package).read("letter.html").decode()
    assert "Not applicable: we disclose support data to no one" in letter


def test_second_build_returns_the_same_package(
    answered_request, media, django_capture_on_commit_callbacks
):
    # given
    request = answered_request()
    with django_capture_on_commit_callbacks(execute=True):
        access_package_build_and_close(request_id=request.pk)
    first = AccessPackage.objects.get(request=request)

    # when the job is delivered again
    with django_capture_on_commit_callbacks(execute=True):
        result = access_package_build_and_close(request_id=request.pk)

    # then nothing new is built, stored, audited or sent
    assert result == "exists"
    assert list(AccessPackage.objects.all()) == [first]
    assert stored_packages(media) == [media / first.file]
    assert AuditEvent.objects.filter(action="access_package.built").count() == 1
    assert len(mail.outbox) == 1


def test_changed_result_file_is_refused(answered_request):
    # given a result file that no longer matches the digest taken at collection
    request = answered_request()
    task = request.tasks.get(connector__name="assistant")
    with default_storage.open(task.result_file, "ab") as handle:
        handle.write(b'{"location": "x", "key": "1", "category": "", "data": {}}\n')

    # when
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "refused"
    event = AuditEvent.objects.get(action="access_package.refused")
    assert event.data["problems"] == [
        "assistant: its result file does not match the digest recorded when it "
        "was collected"
    ]


def test_spreadsheet_formulas_are_quoted_in_csv_only(answered_request):
    # given a message whose body starts with "="
    request = answered_request()

    # when
    access_package_build_and_close(request_id=request.pk)

    # then
    archive = open_package(request.access_package)
    assert _csv_rows(archive, "csv/helpdesk/messages.csv")[0]["body"] == (
        '\'=HYPERLINK("http://x")'
    )
    data = json.loads(archive.read("data.json"))
    helpdesk = next(s for s in data["stores"] if s["connector"] == "helpdesk")
    assert helpdesk["records"][-1]["data"]["body"] == '=HYPERLINK("http://x")'


def test_exempted_store_is_listed_with_its_legal_basis(
    answered_request, make_connector
):
    # given a third store exempted by staff with a recorded legal basis
    request = answered_request()
    billing = make_connector(
        "billing",
        {
            "purposes": ["Invoicing"],
            "recipients": ["Tax authority"],
            "retention": "Ten years (tax law)",
            "source": "Our order system",
            "automated_decision_making": {"not_applicable": "none"},
            "transfers": {"not_applicable": "none"},
        },
        ["billing"],
    )
    add_task(
        request,
        billing,
        status="exempted",
        exemptions=[
            {
                "location": "*",
                "fields": [],
                "basis": "GDPR Art. 15(4)",
                "reason": "the invoices name other customers",
                "count": 0,
            }
        ],
    )

    # when
    result = access_package_build_and_close(request_id=request.pk)

    # then the request completes and the subject is told what was withheld
    assert result == "completed"
    archive = open_package(request.access_package)
    data = json.loads(archive.read("data.json"))
    billing_store = next(s for s in data["stores"] if s["connector"] == "billing")
    assert billing_store["status"] == "exempted"
    assert billing_store["records"] == []
    assert billing_store["withheld"][0]["basis"] == "GDPR Art. 15(4)"
    letter = archive.read("letter.html").decode()
    assert "the invoices name other customers" in letter
    assert "Ten years (tax law)" in letter


def test_portability_export_has_only_provided_categories_and_no_letter(
    answered_request, settings
):
    # given data the subject provided: what they typed in tickets and chats
    settings.PORTABILITY_CATEGORIES = ["support_ticket", "ai_conversation"]
    request = answered_request(kind="portability", retention="")

    # when (Art. 15 information is not part of an Art. 20 export)
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "completed"
    package = request.access_package
    assert package.kind == "portability"
    archive = open_package(package)
    assert "letter.html" not in archive.namelist()
    assert "csv/helpdesk/customers.csv" not in archive.namelist()
    data = json.loads(archive.read("data.json"))
    jsonschema.validate(data, json.loads(archive.read("schema.json")))
    assert data["export"] == {
        "type": "portability",
        "legal_basis": "GDPR Art. 20",
        "machine_readable": True,
        "categories": ["ai_conversation", "support_ticket"],
    }
    categories = {r["category"] for s in data["stores"] for r in s["records"]}
    assert categories == {"support_ticket", "ai_conversation"}
    assert package.record_count == 5
    assert "machine-readable export" in archive.read("index.html").decode()


def test_nothing_found_is_confirmed(make_request, make_connector):
    # given a store searched that holds nothing about the subject
    request = make_request(verified=True)
    empty = make_connector("helpdesk", {}, ["contact"])
    add_task(request, empty, content=b"")

    # when (its empty disclosure does not matter: no data of this subject there)
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "completed"
    archive = open_package(request.access_package)
    assert "found no personal data about you" in archive.read("letter.html").decode()
    data = json.loads(archive.read("data.json"))
    assert data["stores"][0]["records"] == []
    assert request.access_package.record_count == 0


def test_request_not_finished_is_left_alone(answered_request, make_connector):
    # given one store still running
    request = answered_request()
    add_task(request, make_connector("crm", {}, ["contact"]), status="running")

    # when
    result = access_package_build_and_close(request_id=request.pk)

    # then
    assert result == "waiting"
    assert not AccessPackage.objects.exists()


def test_refused_package_is_built_once_the_disclosure_is_completed(answered_request):
    # given a build refused for a missing retention period
    request = answered_request(retention="")
    assert access_package_build_and_close(request_id=request.pk) == "refused"

    # when staff complete it and build again
    Connector.objects.filter(name="helpdesk").update(disclosure=HELPDESK_DISCLOSURE)
    out = io.StringIO()
    call_command("build_access_package", request.reference, stdout=out)

    # then
    assert out.getvalue().strip() == f"{request.reference}: completed"
    request.refresh_from_db()
    assert request.status == "completed"
    assert AccessPackage.objects.filter(request=request).exists()


def test_small_package_is_built_in_memory_from_one_read_of_each_result(
    answered_request, monkeypatch, django_assert_num_queries
):
    # given an answered request and its build input
    from dsr.packages import build as access_package
    from dsr.services.packages import _build_reads, _package_input

    request = answered_request()
    spec = _package_input(request, _build_reads(request.pk)[2])
    opened: list[str] = []
    real_open = default_storage.open

    def counting_open(name, mode="rb"):
        opened.append(name)
        return real_open(name, mode)

    def no_temporary_file(*args, **kwargs):
        raise AssertionError("a small package needs no temporary file")

    monkeypatch.setattr(default_storage, "open", counting_open)
    monkeypatch.setattr(access_package.tempfile, "TemporaryFile", no_temporary_file)

    # when
    with django_assert_num_queries(0):
        built = access_package.package_build(spec)

    # then each result file was read once, and all of it stayed in memory
    assert sorted(opened) == sorted(t.result_file for t in request.tasks.all())
    assert built.record_count == 6
    assert zipfile.ZipFile(built.file).testzip() is None
