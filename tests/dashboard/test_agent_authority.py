"""A request an authorised agent filed through the API, on its dashboard
page: the agent, the authority's state and the consumer's confirmation; an
officer (only) records the signed permission (CCPA-REG §7063, B16)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from dsr.choices import RequestStatus
from dsr.links import status_token
from dsr.models import AgentAuthority, Request
from dsr.services.verification import verification_code_send

CONSUMER = "carla.consumer@example.org"
AGENT = {"name": "Privacy Agents Inc.", "contact": "cases@privacy-agents.example"}
PDF = b"%PDF-1.7\n% signed by Carla\n"


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def filed(make_api_client: Any) -> Request:
    _, http = make_api_client("requests:write")
    response = http.post(
        "/api/v1/requests/",
        {
            "kind": "erasure",
            "regime": "ccpa",
            "identity": {"email": CONSUMER},
            "agent": AGENT,
        },
        format="json",
    )
    assert response.status_code == 201
    return Request.objects.get(public_id=response.json()["id"])


def _page(client: Client, request: Request) -> str:
    response = client.get(reverse("dashboard:request_detail", args=[request.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def _upload(client: Client, request: Request, document: Any) -> Any:
    return client.post(
        reverse("dashboard:agent_permission_upload", args=[request.public_id]),
        {"document": document},
        follow=True,
    )


def _consumer_confirms(request: Request) -> None:
    verification_code_send(request=request)
    code = re.search(r"Your code: (\d{6})", mail.outbox[-1].body)
    assert code
    assert mail.outbox[-1].to == [CONSUMER]
    Client().post(
        reverse("portal:verify", args=[status_token(str(request.public_id))]),
        {"action": "verify", "code": code.group(1)},
    )


def test_the_page_shows_the_agent_and_what_is_missing(
    officer_client: Client, filed: Request
) -> None:
    page = _page(officer_client, filed)

    assert "Filed by an authorised agent" in page
    assert AGENT["name"] in page
    assert "Not recorded yet" in page
    assert "Record the signed permission" in page


def test_a_consumers_own_request_has_no_agent_panel(
    officer_client: Client, make_api_client: Any
) -> None:
    _, http = make_api_client("requests:write")
    http.post(
        "/api/v1/requests/",
        {"kind": "erasure", "regime": "ccpa", "identity": {"email": CONSUMER}},
        format="json",
    )

    assert "authorised agent" not in _page(officer_client, Request.objects.get())


def test_an_officer_records_the_permission_and_the_confirmed_request_proceeds(
    officer_client: Client,
    filed: Request,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given the consumer confirmed at their own address
    _consumer_confirms(filed)
    filed.refresh_from_db()
    assert filed.status == RequestStatus.RECEIVED
    assert "Confirmed" in _page(officer_client, filed)

    # when the officer uploads the signed permission
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(
            officer_client,
            filed,
            SimpleUploadedFile("permission.pdf", PDF, content_type="application/pdf"),
        )

    # then it is recorded, and the request is verified by the consumer's code
    assert "the request is verified" in response.content.decode()
    filed.refresh_from_db()
    assert filed.verified_at is not None
    assert filed.verification_method == "email_code"
    authority = AgentAuthority.objects.get(request=filed)
    assert authority.permission_sha256 == hashlib.sha256(PDF).hexdigest()
    assert authority.permission_deleted_at is not None  # decided: deleted
    assert "Signed permission" in response.content.decode()
    assert "Record the signed permission" not in response.content.decode()


def test_a_file_that_is_not_a_document_is_refused_by_name(
    officer_client: Client, filed: Request, media: Path
) -> None:
    response = _upload(
        officer_client,
        filed,
        SimpleUploadedFile("permission.pdf", b"MZ\x90\x00", content_type="text/plain"),
    )

    assert "Not recorded" in response.content.decode()
    assert "must be a PDF, PNG or JPEG" in response.content.decode()
    authority = AgentAuthority.objects.get(request=filed)
    assert authority.authority_recorded_at is None
    assert not authority.permission_sha256


def test_a_support_agent_may_not_record_the_authority(
    agent_client: Client, filed: Request, media: Path
) -> None:
    # the panel offers no form
    assert "Record the signed permission" not in _page(agent_client, filed)

    response = agent_client.post(
        reverse("dashboard:agent_permission_upload", args=[filed.public_id]),
        {"document": SimpleUploadedFile("p.pdf", PDF, content_type="application/pdf")},
    )

    assert response.status_code == 403
    authority = AgentAuthority.objects.get(request=filed)
    assert authority.authority_recorded_at is None
    assert not AuditEvent.objects.filter(
        action="request.agent_authority_recorded"
    ).exists()
    assert not (media / "agent-permissions").exists()


def test_an_auditor_sees_the_state_but_not_the_agents_name(
    auditor_client: Client, filed: Request
) -> None:
    page = _page(auditor_client, filed)

    assert "Filed by an authorised agent" in page
    assert AGENT["name"] not in page
    assert "Record the signed permission" not in page
