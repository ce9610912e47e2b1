"""A request filed by an authorised agent with its written authority, as one
write (CCPA-REG §7063; REQUIREMENTS B16).

The portal's agent files the request and uploads the signed permission (or
the power of attorney) in one form: the request, its agent and the document
are recorded together or not at all. The file is checked before anything is
written (`agent_permission_clean`), so a wrong file costs no request.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.actors import Actor
from dsr.models import Request
from dsr.services.agents import agent_permission_attach, agent_permission_clean
from dsr.services.requests import request_create


def request_create_by_agent(
    *,
    actor: Actor,
    channel: str,
    agent: dict[str, Any],
    uploaded_file: UploadedFile[bytes],
    source_ip_hash: str | None = None,
    **request: Any,
) -> Request:
    """Record an agent's request and its written authority in one
    transaction; `request` are request_create's other keyword arguments.
    The request then waits for the consumer's own confirmation."""
    agent_permission_clean(uploaded_file)
    with transaction.atomic():
        created = request_create(
            actor=actor,
            channel=channel,
            source_ip_hash=source_ip_hash,
            agent=agent,
            **request,
        )
        agent_permission_attach(
            actor=actor, request=created, uploaded_file=uploaded_file
        )
    return created
