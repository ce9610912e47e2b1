"""Getting a pack: the API, the dashboard, and the officers' internal copy."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.test import Client

from accounts.actors import actor_for_client, actor_for_user
from audit.models import AuditEvent
from dsr.models import Request
from evidence.demo import sample_closed_erasure
from evidence.models import EvidencePack
from evidence.services import evidence_pack_download
from privacydesk.errors import NotPermitted
from tests.evidence.pack_helpers import embedded, page_texts

pytestmark = pytest.mark.django_db
INTERNAL_MARK = "INTERNAL — contains personal data"


@pytest.fixture
def closed_erasure() -> Request:
    return sample_closed_erasure(stores=2)


def _staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- API ----------------------------------------------------------------------------


def test_api_sends_the_pack_to_a_client_with_requests_read(
    closed_erasure: Request, make_api_client
) -> None:
    _, http = make_api_client("requests:read")

    response = http.get(f"/api/v1/requests/{closed_erasure.public_id}/evidence.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{closed_erasure.reference}-evidence.pdf" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == response["X-Evidence-Pack-SHA256"]
    assert closed_erasure.reference in page_texts(content)[0]
    downloaded = AuditEvent.objects.get(action="evidence_pack.downloaded")
    assert downloaded.data["sha256"] == response["X-Evidence-Pack-SHA256"]


def test_api_accepts_an_accept_pdf_header(
    closed_erasure: Request, make_api_client
) -> None:
    _, http = make_api_client("requests:read")

    response = http.get(
        f"/api/v1/requests/{closed_erasure.public_id}/evidence.pdf",
        HTTP_ACCEPT="application/pdf",
    )

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_a_closed_request_unchanged_since_gets_the_same_stored_pack(
    closed_erasure: Request, make_api_client
) -> None:
    _, http = make_api_client("requests:read")
    url = f"/api/v1/requests/{closed_erasure.public_id}/evidence.pdf"

    first = http.get(url)
    second = http.get(url)

    assert first["X-Evidence-Pack-SHA256"] == second["X-Evidence-Pack-SHA256"]
    assert EvidencePack.objects.filter(request=closed_erasure).count() == 1
    assert AuditEvent.objects.filter(action="evidence_pack.downloaded").count() == 2


def test_api_answers_404_for_an_unknown_request(make_api_client) -> None:
    _, http = make_api_client("requests:read")

    for unknown in (uuid.uuid4(), "not-a-uuid"):
        response = http.get(f"/api/v1/requests/{unknown}/evidence.pdf")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == "not_found"
    assert not EvidencePack.objects.exists()


def test_api_refuses_a_token_without_requests_read(
    closed_erasure: Request, make_api_client
) -> None:
    _, http = make_api_client("consent:check")
    before = AuditEvent.objects.count()

    response = http.get(
        f"/api/v1/requests/{closed_erasure.public_id}/evidence.pdf",
        HTTP_ACCEPT="application/pdf",
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert not EvidencePack.objects.exists()
    assert AuditEvent.objects.count() == before


def test_api_clients_never_get_the_internal_copy(
    closed_erasure: Request, make_api_client
) -> None:
    client, _ = make_api_client("requests:read", "requests:manage", "audit:read")
    before = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        evidence_pack_download(
            actor=actor_for_client(client), request=closed_erasure, internal=True
        )

    assert not EvidencePack.objects.exists()
    assert AuditEvent.objects.count() == before


# --- dashboard ------------------------------------------------------------------------


def test_request_page_offers_the_pack_and_the_internal_copy_to_an_officer(
    closed_erasure: Request, officer
) -> None:
    page = _staff_client(officer).get(
        f"/dashboard/requests/{closed_erasure.public_id}/"
    )

    body = page.content.decode()
    assert "Download evidence pack (PDF)" in body
    assert f"/dashboard/requests/{closed_erasure.public_id}/evidence.pdf" in body
    assert "Internal copy with identifiers" in body


def test_an_auditor_downloads_the_pack_but_is_not_offered_the_internal_copy(
    closed_erasure: Request, auditor
) -> None:
    client = _staff_client(auditor)

    page = client.get(f"/dashboard/requests/{closed_erasure.public_id}/")
    response = client.get(
        f"/dashboard/requests/{closed_erasure.public_id}/evidence.pdf"
    )

    assert "Download evidence pack (PDF)" in page.content.decode()
    assert "Internal copy with identifiers" not in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert INTERNAL_MARK not in "".join(page_texts(response.content))


def test_an_auditor_asking_for_the_internal_copy_is_refused(
    closed_erasure: Request, auditor
) -> None:
    before = AuditEvent.objects.count()

    response = _staff_client(auditor).post(
        f"/dashboard/requests/{closed_erasure.public_id}/evidence-internal.pdf"
    )

    assert response.status_code == 403
    assert not EvidencePack.objects.exists()
    assert AuditEvent.objects.count() == before


def test_the_internal_copy_is_marked_on_every_page_audited_and_not_stored(
    closed_erasure: Request, officer
) -> None:
    # when a privacy officer takes the internal copy
    response = _staff_client(officer).post(
        f"/dashboard/requests/{closed_erasure.public_id}/evidence-internal.pdf"
    )

    # then every page says what it is, and the identifiers are in it
    assert response.status_code == 200
    assert "-evidence-INTERNAL.pdf" in response["Content-Disposition"]
    pages = page_texts(response.content)
    assert len(pages) > 1
    assert all(INTERNAL_MARK in text for text in pages)
    email = closed_erasure.identity["email"]
    assert email in "".join(pages)
    assert embedded(response.content)["facts"]["internal"]["claimed"]["email"] == email
    # it was recorded and audited as the officer's, but not kept
    pack = EvidencePack.objects.get(request=closed_erasure)
    assert pack.internal
    assert pack.file == ""
    event = AuditEvent.objects.get(action="evidence_pack.generated")
    assert event.actor == actor_for_user(officer).ref
    assert event.data["internal"] is True
    assert event.data["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_the_internal_copy_needs_a_post(closed_erasure: Request, officer) -> None:
    response = _staff_client(officer).get(
        f"/dashboard/requests/{closed_erasure.public_id}/evidence-internal.pdf"
    )

    assert response.status_code == 405
    assert not EvidencePack.objects.exists()
