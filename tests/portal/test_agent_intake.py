"""An authorised agent files a CCPA request through the portal form, with
the written authority uploaded (CCPA-REG §7063, REQUIREMENTS B16): the
request and its authority are written together or not at all, the code goes
to the consumer, and the consumer's confirmation lets it proceed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_portal
from audit.models import AuditEvent
from dsr.choices import RequestStatus
from dsr.models import AgentAuthority, Request
from dsr.services.agent_intake import request_create_by_agent
from tests.portal.conftest import form_data, last_code

CONSUMER = "carla.consumer@example.org"
AGENT_EMAIL = "cases@privacy-agents.example"
PDF = b"%PDF-1.4\n% Carla authorises Privacy Agents Inc. Signed, Carla.\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def media(settings: Any, tmp_path: Path, db: None) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _stored_permissions(media: Path) -> list[Path]:
    return [p for p in (media / "agent-permissions").rglob("*") if p.is_file()]


def _agent_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = form_data(
        kind="erasure",
        residence="california",
        email=CONSUMER,
        filed_by_agent="on",
        agent_name="Privacy Agents Inc.",
        agent_contact=AGENT_EMAIL,
        agent_authority="signed_permission",
    )
    data["agent_document"] = SimpleUploadedFile(
        "permission.pdf", PDF, content_type="application/pdf"
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_agent_files_with_the_signed_permission_and_the_consumer_confirms(
    client: Client, media: Path
) -> None:
    # when the agent sends the form with the signed permission
    response = client.post(reverse("portal:new"), _agent_form(), follow=True)

    # then one request is recorded with its agent and the document's digest
    assert response.status_code == 200
    request = Request.objects.get()
    assert request.regime == "ccpa"
    assert request.status == RequestStatus.RECEIVED
    authority = AgentAuthority.objects.get(request=request)
    assert authority.agent_name == "Privacy Agents Inc."
    assert authority.agent_contact == AGENT_EMAIL
    assert authority.power_of_attorney is False
    assert authority.permission_sha256 == hashlib.sha256(PDF).hexdigest()
    assert authority.permission_file.endswith(".pdf")
    assert default_storage.exists(authority.permission_file)
    assert authority.authority_recorded_by == "system:portal"
    # and the code went to the consumer only, and the page tells the agent so
    assert [m.to for m in mail.outbox] == [[CONSUMER]]
    assert "Privacy Agents Inc." in mail.outbox[0].body
    page = response.content.decode()
    assert "the consumer&#x27;s own e-mail address" in page
    assert "not to yours" in page

    # when the consumer types the code that reached them
    client.post(
        response.redirect_chain[-1][0],
        {"action": "verify", "code": last_code()},
    )

    # then the request proceeds, and the document is gone, its digest kept
    request.refresh_from_db()
    authority.refresh_from_db()
    assert request.verified_at is not None
    assert request.status != RequestStatus.RECEIVED
    assert authority.consumer_confirmed_method == "email_code"
    assert authority.permission_file == ""
    assert authority.permission_sha256 == hashlib.sha256(PDF).hexdigest()


def test_a_power_of_attorney_is_uploaded_too(client: Client, media: Path) -> None:
    document = SimpleUploadedFile("poa.png", PNG, content_type="image/png")

    client.post(
        reverse("portal:new"),
        _agent_form(agent_authority="power_of_attorney", agent_document=document),
    )

    authority = AgentAuthority.objects.get()
    assert authority.power_of_attorney is True
    assert authority.permission_file.endswith(".png")
    assert authority.authority_recorded_at is not None
    assert AuditEvent.objects.filter(action="request.agent_authority_recorded").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"residence": "eu"}, "filed_by_agent", "only for a California resident"),
        ({"agent_name": ""}, "agent_name", "Enter your name"),
        ({"agent_contact": ""}, "agent_contact", "Enter your e-mail address"),
        ({"agent_contact": "nope"}, "agent_contact", "valid e-mail address"),
        ({"agent_authority": ""}, "agent_authority", "Choose the written authority"),
        ({"agent_document": ""}, "agent_document", "Upload the signed permission"),
        (
            {
                "agent_document": SimpleUploadedFile(
                    "permission.pdf", b"just text", content_type="application/pdf"
                )
            },
            "agent_document",
            "must be a PDF, PNG or JPEG",
        ),
        (
            {
                "agent_document": SimpleUploadedFile(
                    "permission.pdf", PDF, content_type="text/html"
                )
            },
            "agent_document",
            "sent as text/html",
        ),
        (
            {"agent_document": SimpleUploadedFile("empty.pdf", b"")},
            "agent_document",
            "empty",
        ),
        ({"agent_contact": CONSUMER}, "agent_contact", "consumer's own address"),
    ],
)
def test_a_bad_agent_form_names_the_field_and_writes_nothing(
    client: Client,
    media: Path,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client.post(reverse("portal:new"), _agent_form(**overrides))

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message.lower() in " ".join(form.errors[field]).lower()
    assert not Request.objects.exists()
    assert not AgentAuthority.objects.exists()
    assert not mail.outbox
    assert not (media / "agent-permissions").exists() or not _stored_permissions(media)


def test_a_file_past_the_size_limit_is_refused(
    client: Client, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dsr.services.agents.MAX_PERMISSION_BYTES", len(PDF) - 1)

    response = client.post(reverse("portal:new"), _agent_form())

    assert "too large" in " ".join(response.context["form"].errors["agent_document"])
    assert not Request.objects.exists()


def test_the_request_is_not_written_when_the_document_cannot_be_stored(
    media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(default_storage, "save", refuse)

    with pytest.raises(OSError, match="disk full"):
        request_create_by_agent(
            actor=actor_portal(),
            channel="portal",
            kind="access",
            regime="ccpa",
            identity={"email": CONSUMER},
            agent={"name": "Privacy Agents Inc.", "contact": AGENT_EMAIL},
            uploaded_file=SimpleUploadedFile(
                "p.pdf", PDF, content_type="application/pdf"
            ),
        )

    assert not Request.objects.exists()
    assert not AgentAuthority.objects.exists()
    assert not AuditEvent.objects.filter(action="request.received").exists()


def test_the_consumers_own_form_is_unchanged(client: Client, media: Path) -> None:
    response = client.post(
        reverse("portal:new"),
        form_data(residence="california", email=CONSUMER),
        follow=True,
    )

    assert response.status_code == 200
    assert not AgentAuthority.objects.exists()
    assert "Check your e-mail" in response.content.decode()
