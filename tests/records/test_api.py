"""GET /api/v1/records-of-processing/ and its CSV, as a client calls them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiClient
from audit.models import AuditEvent
from connectors.models import Connector
from records.exports import CSV_COLUMNS
from records.models import RecordExport

pytestmark = pytest.mark.django_db
URL = "/api/v1/records-of-processing/"
CSV_URL = "/api/v1/records-of-processing/export.csv"
MakeClient = Callable[..., tuple[ApiClient, APIClient]]


def test_the_record_is_read_with_governance_read(
    make_api_client: MakeClient,
    manual_store: Callable[..., Connector],
    legacy_store: Callable[..., Connector],
) -> None:
    # given a complete store and one with nothing recorded
    manual_store()
    legacy_store("bare")
    _, client = make_api_client("governance:read")

    # when
    response = client.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 0
    assert len(body["record_sha256"]) == 64
    assert [s["name"] for s in body["data_map"]["stores"]] == ["bare", "billing"]
    billing = next(a for a in body["activities"] if a["stores"] == ["billing"])
    assert billing["transfers"][0]["safeguards"].startswith("EU Standard")
    gaps = {(g["subject"], g["kind"]) for g in body["gaps"]}
    assert ("bare", "no_purpose") in gaps
    assert ("", "no_security_measures") in gaps


@pytest.mark.parametrize("path", [URL, CSV_URL])
def test_reading_needs_the_governance_read_scope(
    make_api_client: MakeClient, path: str
) -> None:
    _, other = make_api_client("connectors:read", "governance:write", "audit:read")
    audited = AuditEvent.objects.count()

    response = other.get(path)

    assert response.status_code == 403
    assert "governance:read" in response.json()["detail"]
    assert AuditEvent.objects.count() == audited
    assert not RecordExport.objects.exists()


def test_without_a_token_it_is_401(db: object) -> None:
    assert APIClient().get(URL).status_code == 401


def test_the_csv_has_the_documented_columns_and_is_audited(
    make_api_client: MakeClient,
    manual_store: Callable[..., Connector],
    legacy_store: Callable[..., Connector],
) -> None:
    # given
    manual_store()
    legacy_store("bare")
    client_row, client = make_api_client("governance:read")

    # when
    response = client.get(CSV_URL)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    billing = next(r for r in rows if r["stores"] == "billing")
    assert billing["activity"] == "Answering support requests"
    assert billing["data_categories"] == "contact; invoice"
    assert (
        "United States, Helpdesk Cloud Inc.: EU Standard"
        in (billing["transfers_outside_eea"])
    )
    # a store no purpose covers has its own row with its gaps
    bare = next(r for r in rows if r["stores"] == "bare")
    assert bare["activity"] == ""
    assert "bare: no purpose is recorded" in bare["gaps"]
    # and the export is an audit event citing the version and digest
    event = AuditEvent.objects.get(action="records.exported")
    assert event.actor == f"client:{client_row.public_id}"
    assert event.data["version"] == int(response["X-Record-Version"]) == 0
    assert event.data["record_sha256"] == response["X-Record-SHA256"]
    export = RecordExport.objects.get()
    assert export.format == "csv"
    assert event.data["sha256"] == export.sha256


def test_a_formula_in_a_text_is_not_run_by_a_spreadsheet(
    make_api_client: MakeClient, legacy_store: Callable[..., Connector]
) -> None:
    legacy_store("sheet", disclosure={"purposes": ["=HYPERLINK(1)"]})
    _, client = make_api_client("governance:read")

    rows = list(csv.reader(io.StringIO(client.get(CSV_URL).content.decode())))

    assert ["'=HYPERLINK(1)"] == [r[1] for r in rows[1:] if "HYPERLINK" in r[1]]


def test_an_empty_format_is_a_400_naming_it_and_nothing_is_exported(
    make_api_client: MakeClient,
) -> None:
    _, client = make_api_client("governance:read")
    audited = AuditEvent.objects.count()

    response = client.get(CSV_URL + "?format=")

    assert response.status_code == 400
    assert "format" in response.json()["errors"]
    assert AuditEvent.objects.count() == audited
    assert not RecordExport.objects.exists()
