"""The request evidence pack: what it says, what it embeds, when it is made."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from accounts.actors import actor_system
from audit.models import AuditEvent
from audit.selectors import audit_chain_head
from connectors.models import Connector
from dsr.clock import local_date
from dsr.models import Request, RequestTask
from dsr.services.packages import access_package_build_and_close
from dsr.services.requests import request_close, request_reject
from evidence.demo import sample_closed_erasure
from evidence.models import EvidencePack
from evidence.packs.canonical import facts_digest
from evidence.services import evidence_pack_generate, evidence_pack_generate_on_close
from evidence.tasks import evidence_pack_generate_task
from tests.evidence.pack_helpers import embedded, flat_text, page_texts, shows

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


@pytest.fixture
def closed_erasure() -> Request:
    return sample_closed_erasure(stores=3)


def test_request_pack_shows_the_key_facts(closed_erasure: Request) -> None:
    # when
    result = evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    # then the pages carry the facts an auditor looks for
    text = "\n".join(page_texts(result.content))
    flat = flat_text(result.content)
    request = closed_erasure
    for phrase in (
        request.reference,
        "Erasure",
        "EU GDPR",
        request.subject.pseudonym,
        "Completed",
        "Met: closed",
        "sample-desk-01",
        "sample-desk-02",
        "sample-crm-03",
        "Passed: nothing left",
        "GDPR Art. 17(3)(b): tax law requires invoices for 10 years",
        "One-time code sent to the e-mail address",  # the method, not the proof
        "Deadline extended",
        "Waiting for clarification",
        "could not connect to the store",  # a failed attempt
        "marketing_email",  # consent history
    ):
        assert shows(flat, phrase), phrase
    # every audit event's hash, and the chain head
    events = list(
        AuditEvent.objects.filter(
            object_id=str(request.public_id),
            sequence__lte=result.pack.chain_head_sequence,
        )
    )
    assert events
    for event in events:
        assert event.hash in flat
    assert result.pack.chain_head_hash in flat
    assert result.pack.chain_head_sequence == audit_chain_head().sequence - 1
    assert result.pack.facts_sha256 in flat
    # and no identifier of the subject
    assert "@example.com" not in text


def test_pack_embeds_the_same_facts_as_json_sealed_by_their_digest(
    closed_erasure: Request,
) -> None:
    result = evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    document = embedded(result.content)

    assert document["format"] == "privacydesk.evidence-pack/1"
    facts = document["facts"]
    assert (
        document["digest"]["value"] == facts_digest(facts) == result.pack.facts_sha256
    )
    assert facts["request"]["reference"] == closed_erasure.reference
    assert facts["request"]["status"] == "completed"
    assert facts["deadline"]["state"] == "met"
    assert [s["connector"] for s in facts["stores"]] == [
        "sample-crm-03",
        "sample-desk-01",
        "sample-desk-02",
    ]
    desk = facts["stores"][1]
    assert desk["verification"]["result"] == "passed"
    assert {loc["location"]: loc["treatment"] for loc in desk["locations"]}[
        "messages"
    ] == "PII redacted: body"
    assert facts["audit"]["chain_head"]["hash"] == result.pack.chain_head_hash
    assert facts["settings"]["deadline"]["version"]
    assert "internal" not in facts
    assert "@example.com" not in str(facts)


def test_pack_is_pdf_a_3b_with_embedded_fonts(closed_erasure: Request) -> None:
    result = evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    reader = PdfReader(io.BytesIO(result.content))
    # PDF/A-3, conformance B, in the XMP metadata
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)
    # the document's title and author, from the pack template's head
    assert reader.metadata.title == f"Evidence pack {closed_erasure.reference}"
    assert reader.metadata.author == settings.CONTROLLER_NAME
    # the JSON is an associated file, listed once, related as "Data"
    assert len(reader.trailer["/Root"]["/AF"]) == 1
    (attachment,) = reader.attachment_list
    assert attachment.name == "evidence.json"
    assert attachment.associated_file_relationship == "/Data"
    # every font is embedded
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Liberation" in name for name in fonts)
    assert result.pack.pdf_variant == "pdf/a-3b"


def test_missed_deadline_says_by_how_many_days(make_request) -> None:
    # given a request received long ago and closed only now
    received = timezone.now() - timedelta(days=75)
    request = make_request(kind="objection", received_at=received, verified=True)

    # when
    request = request_close(actor=SYSTEM, request=request, outcome="completed", note="")
    result = evidence_pack_generate(actor=SYSTEM, request=request)

    # then
    late = (local_date(request.closed_at) - request.due_on).days
    assert late > 0
    flat = flat_text(result.content)
    assert shows(flat, f"Missed: closed {late} days after the deadline")
    assert embedded(result.content)["facts"]["deadline"]["days"] == -late


def test_access_pack_lists_the_package_contents_and_digest(
    answered_request, django_capture_on_commit_callbacks
) -> None:
    # given an answered access request whose package is built
    request = answered_request()
    with django_capture_on_commit_callbacks(execute=True):
        access_package_build_and_close(request_id=request.pk)
    request.refresh_from_db()

    # when
    result = evidence_pack_generate(actor=SYSTEM, request=request)

    # then
    flat = flat_text(result.content)
    assert request.access_package.sha256 in flat
    for entry in ("data.json", "letter.html", "csv/helpdesk/tickets.csv"):
        assert entry in flat
    facts = embedded(result.content)["facts"]
    assert facts["access_package"]["sha256"] == request.access_package.sha256
    assert "ada.lovelace" not in flat  # the records themselves never appear


def test_rectification_pack_names_fields_never_values(make_request) -> None:
    # given a rectification done in an SQL store that maps both fields
    request = make_request(
        kind="rectification",
        verified=True,
        corrections={"name": "Ada Byron", "phone": "+44 7700 900123"},
    )
    connector = Connector.objects.create(
        name="crm",
        kind="sql",
        enabled=False,
        config={
            "dsn": "postgresql://crm.internal/crm",
            "tables": [{"table": "contacts", "rectify": {"name": "full_name"}}],
        },
    )
    RequestTask.objects.create(
        request=request,
        connector=connector,
        action="rectify",
        status="succeeded",
        finished_at=timezone.now(),
        records_found=1,
        records_changed=1,
        per_location={"contacts": {"found": 1, "changed": 1}},
    )
    request = request_close(actor=SYSTEM, request=request, outcome="completed")

    # when
    result = evidence_pack_generate(actor=SYSTEM, request=request)

    # then the field names are there, the corrected values are not
    flat = flat_text(result.content)
    facts = embedded(result.content)["facts"]["rectification"]
    assert facts["requested_fields"] == ["name", "phone"]
    assert facts["stores"][0]["tables"] == [
        {"location": "contacts", "fields": ["name"], "found": 1, "changed": 1}
    ]
    assert facts["stores"][0]["fields_not_held"] == ["phone"]
    assert shows(flat, "Not held by crm: phone")
    assert not shows(flat, "Ada Byron")
    assert not shows(flat, "7700 900123")


def test_pack_is_generated_and_audited_when_a_request_closes(
    make_request, django_capture_on_commit_callbacks
) -> None:
    # given an open request
    request = make_request(kind="objection", verified=True)

    # when it closes
    with django_capture_on_commit_callbacks(execute=True):
        request_close(actor=SYSTEM, request=request, outcome="completed")

    # then a pack is stored and its SHA-256 is in the audit chain
    pack = EvidencePack.objects.get(request=request)
    assert not pack.internal
    with default_storage.open(pack.file, "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == pack.sha256
    assert len(content) == pack.size
    event = AuditEvent.objects.get(action="evidence_pack.generated")
    assert event.object_id == str(request.public_id)
    assert event.data["sha256"] == pack.sha256
    assert event.data["facts_sha256"] == pack.facts_sha256
    assert event.sequence > pack.chain_head_sequence


def test_a_rejected_request_gets_its_pack_too(
    make_request, django_capture_on_commit_callbacks
) -> None:
    request = make_request(kind="access")

    with django_capture_on_commit_callbacks(execute=True):
        request_reject(
            actor=SYSTEM, request=request, reason="Manifestly unfounded: duplicate"
        )

    pack = EvidencePack.objects.get(request=request)
    flat = flat_text(default_storage.open(pack.file).read())
    assert shows(flat, "Rejected")
    assert shows(flat, "Manifestly unfounded: duplicate")


def test_generating_on_close_twice_makes_one_pack(closed_erasure: Request) -> None:
    first = evidence_pack_generate_on_close(request_id=closed_erasure.pk)
    second = evidence_pack_generate_task(closed_erasure.pk)

    assert (first, second) == ("generated", "exists")
    assert EvidencePack.objects.filter(request=closed_erasure).count() == 1


def test_an_open_request_is_not_packed_on_close(make_request) -> None:
    request = make_request(kind="access", verified=True)

    assert evidence_pack_generate_on_close(request_id=request.pk) == "not-closed"
    assert not EvidencePack.objects.exists()


def test_pack_names_stores_and_categories_as_the_subject_was_told(
    closed_erasure: Request,
) -> None:
    # given one store with a title and a category name, the others without
    desk = Connector.objects.get(name="sample-desk-01")
    category = desk.data_categories[0]
    desk.disclosure = {
        **desk.disclosure,
        "title": "Support desk (Europe)",
        "category_names": {category: "Your support tickets"},
    }
    desk.save(update_fields=["disclosure"])

    # when
    result = evidence_pack_generate(actor=SYSTEM, request=closed_erasure)

    # then the facts and the pages carry the title beside the name
    facts = {s["connector"]: s for s in embedded(result.content)["facts"]["stores"]}
    assert facts["sample-desk-01"]["title"] == "Support desk (Europe)"
    assert facts["sample-desk-01"]["category_names"][0] == "Your support tickets"
    assert facts["sample-crm-03"]["title"] == "Sample CRM 03"  # in words
    flat = flat_text(result.content)
    assert shows(flat, "Support desk (Europe) (sample-desk-01)")
    assert shows(flat, "Your support tickets")
