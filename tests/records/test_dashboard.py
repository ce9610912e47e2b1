"""The records pages: officers edit, auditors read, agents are refused;
every edit is versioned in history and on the audit chain."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from audit.models import AuditEvent
from connectors.models import Connector
from consent.models import Purpose
from records.models import Activity, ProcessingRecord, Recipient, RecordExport
from tests.evidence.pack_helpers import embedded

pytestmark = pytest.mark.django_db
RECORDS = "/dashboard/records/"
MAP = "/dashboard/records/data-map/"


def test_the_officer_sees_the_record_with_its_gaps_and_edit_links(
    officer_client: Client,
    manual_store: Callable[..., Connector],
    legacy_store: Callable[..., Connector],
) -> None:
    manual_store()
    legacy_store("bare")

    response = officer_client.get(RECORDS)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Answering support requests" in html
    assert 'data-gap="no_purpose"' in html
    assert "/dashboard/records/controller/" in html
    assert 'href="/dashboard/records/"' in html  # the nav entry


def test_the_auditor_reads_but_may_not_edit(
    auditor_client: Client, manual_store: Callable[..., Connector]
) -> None:
    manual_store()

    page = auditor_client.get(RECORDS)
    data_map = auditor_client.get(MAP)
    edit = auditor_client.get("/dashboard/records/controller/")
    post = auditor_client.post(
        "/dashboard/records/controller/", {"security_measures": "nothing"}
    )

    assert page.status_code == 200
    assert data_map.status_code == 200
    assert "/dashboard/records/controller/" not in page.content.decode()
    assert edit.status_code == 403
    assert post.status_code == 403
    assert not ProcessingRecord.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="records.").exists()


def test_a_support_agent_has_no_access(agent_client: Client) -> None:
    assert agent_client.get(RECORDS).status_code == 403
    assert agent_client.get(MAP).status_code == 403
    assert agent_client.post("/dashboard/records/export.csv").status_code == 403
    assert not RecordExport.objects.exists()


def test_an_edit_is_in_history_and_on_the_audit_chain(officer_client: Client) -> None:
    # when the officer saves the controller's part twice
    for measures in ("Encryption at rest.", "Encryption at rest and in transit."):
        response = officer_client.post(
            "/dashboard/records/controller/",
            {
                "controller_contact": "privacy@example.com",
                "security_measures": measures,
                "subject_categories": "customers\nprospects",
            },
        )
        assert response.status_code == 302

    # then each save is a version, in history and audited
    record = ProcessingRecord.objects.get()
    assert record.version == 2
    assert record.subject_categories == ["customers", "prospects"]
    versions = record.history.order_by("history_id")
    assert [h.security_measures for h in versions] == [
        "",  # the row made on the first save
        "Encryption at rest.",
        "Encryption at rest and in transit.",
    ]
    assert record.history.first().history_user.username == "olivia.officer"
    events = AuditEvent.objects.filter(action="records.controller_updated")
    assert [e.data["version"] for e in events.order_by("sequence")] == [1, 2]
    assert events.last().data["fields"] == ["security_measures"]


def test_activities_and_recipients_are_added_and_refused_with_the_field_named(
    officer_client: Client,
) -> None:
    # given
    purpose = Purpose.objects.get(slug="call_recording")

    # when an activity is described for a consent purpose
    response = officer_client.post(
        "/dashboard/records/activities/new/",
        {
            "purpose": purpose.pk,
            "data_categories": "call_recording, phone",
            "retention": "90 days after the call",
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.data_categories == ["call_recording", "phone"]

    # and a recipient outside the EEA without a safeguard is added to it
    response = officer_client.post(
        "/dashboard/records/recipients/new/",
        {
            "name": "Phone Co",
            "role": "processor",
            "activity": activity.pk,
            "country": "US",
        },
    )
    assert response.status_code == 302

    # then the record shows the gap
    html = officer_client.get(RECORDS).content.decode()
    assert "Phone Co is in US, outside the EEA, and no safeguard is recorded" in html

    # and an activity of its own without a name is refused, naming the field
    response = officer_client.post(
        "/dashboard/records/activities/new/", {"description": "unnamed"}
    )
    assert response.status_code == 200
    assert "name the activity" in response.content.decode()
    assert Activity.objects.count() == 1
    # and an activity with recipients cannot be removed before them
    officer_client.post(f"/dashboard/records/activities/{activity.public_id}/delete/")
    assert Activity.objects.count() == 1
    recipient = Recipient.objects.get()
    officer_client.post(f"/dashboard/records/recipients/{recipient.public_id}/delete/")
    officer_client.post(f"/dashboard/records/activities/{activity.public_id}/delete/")
    assert not Activity.objects.exists()
    assert ProcessingRecord.objects.get().version == 4


def test_the_data_map_lists_stores_by_category(
    auditor_client: Client,
    manual_store: Callable[..., Connector],
    legacy_store: Callable[..., Connector],
) -> None:
    manual_store()
    legacy_store("bare")

    html = auditor_client.get(MAP).content.decode()

    assert 'data-store="billing"' in html
    assert 'data-store-card="bare"' in html
    assert '<th scope="col" class="datamap__cat">invoice</th>' in html
    assert 'data-gap="no_data_categories"' in html


def test_empty_states(officer_client: Client) -> None:
    # given a fresh installation: no store, nothing recorded by the officer
    record_page = officer_client.get(RECORDS).content.decode()
    map_page = officer_client.get(MAP).content.decode()

    assert "No stores connected yet" in map_page
    assert "No change recorded yet" in record_page
    # the default consent purposes are activities, each a gap until described
    assert 'data-gap="no_store"' in record_page
    assert "— not recorded" in record_page


def test_the_pdf_export_from_the_dashboard_is_a_pack(
    auditor_client: Client, manual_store: Callable[..., Connector]
) -> None:
    manual_store()

    response = auditor_client.post("/dashboard/records/export.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert embedded(response.content)["facts"]["kind"] == "records_of_processing"
    assert RecordExport.objects.get().format == "pdf"
