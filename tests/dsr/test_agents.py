"""CCPA authorised agents (CCPA-REG §7063, REQUIREMENTS B16): a request filed
by an agent cannot proceed until the agent's written authority is recorded
and the consumer has confirmed directly at their own address; the clock
runs meanwhile; the authority is in the evidence pack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from dsr.choices import RequestStatus
from dsr.links import status_token
from dsr.models import AgentAuthority, Request
from dsr.services.requests import request_verify
from dsr.services.verification import (
    agent_permission_record,
    verification_code_send,
)
from evidence.services import evidence_pack_generate
from privacydesk.errors import IllegalTransition
from tests.evidence.pack_helpers import embedded, flat_text, shows

URL = "/api/v1/requests/"
CONSUMER = "carla.consumer@example.org"
AGENT = {"name": "Privacy Agents Inc.", "contact": "cases@privacy-agents.example"}
CODE = re.compile(r"Your code: (\d{6})")
SYSTEM = actor_system("tests")


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _file_by_agent(make_api_client: Any, **agent: Any) -> Request:
    _, http = make_api_client("requests:write")
    response = http.post(
        URL,
        {
            "kind": "access",
            "regime": "ccpa",
            "identity": {"email": CONSUMER},
            "agent": {**AGENT, **agent},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Request.objects.get(public_id=response.json()["id"])


def _consumer_confirms(client: Client, request: Request) -> None:
    """The consumer types the code that reached their own mailbox."""
    verification_code_send(request=request)
    sent = mail.outbox[-1]
    assert sent.to == [CONSUMER]
    match = CODE.search(sent.body)
    assert match
    client.post(
        reverse("portal:verify", args=[status_token(str(request.public_id))]),
        {"action": "verify", "code": match.group(1)},
    )


def test_the_api_records_the_agent_without_echoing_or_auditing_its_name(
    make_api_client: Any,
) -> None:
    request = _file_by_agent(make_api_client)
    authority = AgentAuthority.objects.get(request=request)
    assert authority.agent_name == AGENT["name"]
    assert authority.agent_contact == AGENT["contact"]
    assert authority.authority_recorded_at is None
    assert request.status == RequestStatus.RECEIVED
    recorded = AuditEvent.objects.get(
        object_id=str(request.public_id), action="request.agent_recorded"
    )
    assert recorded.data == {"power_of_attorney": False}
    assert "privacy-agents" not in str(
        list(AuditEvent.objects.filter(object_id=str(request.public_id)).values("data"))
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agent": {**AGENT, "contact": CONSUMER}}, "agent.contact"),
        ({"agent": {"contact": AGENT["contact"]}}, "agent.name"),
        ({"agent": {**AGENT, "contact": "not-an-address"}}, "agent.contact"),
        ({"agent": {**AGENT, "power_of_attorney": "yes"}}, "agent.power_of_attorney"),
        ({"agent": {**AGENT, "fax": "1"}}, "agent.fax"),
        ({"agent": "Privacy Agents"}, "agent"),
        ({"agent": AGENT, "identity": {"phone": "+1 415 555 0100"}}, "identity.email"),
        ({"agent": AGENT, "verified": True}, "verified"),
    ],
)
def test_a_bad_agent_is_refused_naming_the_field_and_nothing_is_written(
    make_api_client: Any, body: dict[str, Any], field: str
) -> None:
    _, http = make_api_client("requests:write", "requests:verify")
    payload = {
        "kind": "erasure",
        "regime": "ccpa",
        "identity": {"email": CONSUMER},
        **body,
    }
    response = http.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert not Request.objects.exists()
    assert not AgentAuthority.objects.exists()


def test_the_consumer_confirms_then_the_signed_permission_lets_it_proceed(
    make_api_client: Any,
    client: Client,
    officer_actor: Any,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _file_by_agent(make_api_client)
    due_on = request.due_on

    # the code goes to the consumer's own address and names the agent
    _consumer_confirms(client, request)
    assert "Privacy Agents Inc." in mail.outbox[0].body
    assert all(m.to != [AGENT["contact"]] for m in mail.outbox)
    # confirmed, but the written authority is missing: it waits
    request.refresh_from_db()
    authority = AgentAuthority.objects.get(request=request)
    assert authority.consumer_confirmed_method == "email_code"
    assert request.status == RequestStatus.RECEIVED
    # staff cannot wave it through either
    with pytest.raises(IllegalTransition, match="written authority"):
        request_verify(actor=officer_actor, request=request, method="staff_checked")

    # when the signed permission is recorded
    signed = b"%PDF-1.4 I, Carla, authorise Privacy Agents Inc. Signed."
    with django_capture_on_commit_callbacks(execute=True):
        request = agent_permission_record(
            actor=officer_actor,
            request=request,
            uploaded_file=SimpleUploadedFile(
                "Carla permission.pdf", signed, content_type="application/pdf"
            ),
        )

    # then it is verified by the consumer's confirmation, the clock untouched
    assert request.status != RequestStatus.RECEIVED
    assert request.verification_method == "email_code"
    assert request.due_on == due_on  # CCPA: verification never pauses it
    # and the document is gone, its digest kept as the proof
    authority.refresh_from_db()
    assert authority.permission_file == ""
    assert authority.permission_deleted_at is not None
    assert len(authority.permission_sha256) == 64
    assert not [p for p in (media / "agent-permissions").rglob("*") if p.is_file()]

    # and the evidence pack shows agent, authority and confirmation, no name
    result = evidence_pack_generate(actor=SYSTEM, request=request)
    facts = embedded(result.content)["facts"]
    assert facts["agent"]["authority"] == "signed_permission"
    assert facts["agent"]["permission_sha256"] == authority.permission_sha256
    assert facts["agent"]["consumer_confirmed_method"] == "email_code"
    assert "Privacy Agents" not in str(facts)
    assert shows(flat_text(result.content), "Filed by an authorised agent")


def test_a_power_of_attorney_still_waits_for_the_consumer(
    make_api_client: Any, client: Client, officer_actor: Any
) -> None:
    request = _file_by_agent(make_api_client, power_of_attorney=True)
    authority = AgentAuthority.objects.get(request=request)
    assert authority.authority_recorded_at is not None

    with pytest.raises(IllegalTransition, match="consumer has not yet confirmed"):
        request_verify(actor=officer_actor, request=request, method="staff_checked")
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED

    _consumer_confirms(client, request)
    request.refresh_from_db()
    assert request.status != RequestStatus.RECEIVED
    assert request.verified_at is not None
