"""Requests filed by an authorised agent (CCPA-REG §7063; REQUIREMENTS B16).

A request may say it was filed by an agent: `{"name": ..., "contact": ...,
"power_of_attorney": false}`. It cannot proceed until

- the agent's written authority is recorded: a signed permission uploaded
  (kept while it is checked, then deleted, its sha256 and size kept as the
  proof) or a power of attorney (§7063(b): then the consumer need not
  confirm, but we still ask: the brief's rule is stricter), and
- the consumer has confirmed directly, by the one-time code or link sent to
  the consumer's own address (the request's identity), never the agent's.

The clock runs meanwhile (CCPA §7021(b): verification never pauses it).
`agent_refusal` is the gate `request_mark_verified` asks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from dsr.models import AgentAuthority, Request
from privacydesk.errors import IllegalTransition, ValidationFailed

MAX_PERMISSION_BYTES = 10 * 1024 * 1024
_AGENT_KEYS = {"name", "contact", "power_of_attorney"}
# The documents a signed permission may be: what the file's first bytes say it
# is, the content types a browser may declare for it, and the suffix it is
# stored under (never the uploader's name, which may say anything).
_PERMISSION_TYPES = (
    (b"%PDF-", frozenset({"application/pdf", "application/x-pdf"}), "pdf"),
    (b"\x89PNG\r\n\x1a\n", frozenset({"image/png"}), "png"),
    (b"\xff\xd8\xff", frozenset({"image/jpeg", "image/pjpeg"}), "jpg"),
)
# A client that does not say what it sends (curl, a script) declares these.
_UNDECLARED = frozenset({"", "application/octet-stream"})


@dataclass(frozen=True)
class AgentInput:
    """An agent's details as given at intake, checked."""

    name: str
    contact: str
    power_of_attorney: bool


def agent_input_clean(
    agent: Any, *, identity: Any, verified: bool, field: str = "agent"
) -> AgentInput | None:
    """Check the agent part of a request (None: filed by the consumer)."""
    if agent is None:
        return None
    if not isinstance(agent, Mapping):
        raise ValidationFailed("must be an object", field=field)
    unknown = sorted(set(agent) - _AGENT_KEYS, key=str)
    if unknown:
        raise ValidationFailed("unknown field", field=f"{field}.{unknown[0]}")
    name = agent.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("the agent's name is required", field=f"{field}.name")
    if len(name) > 200:
        raise ValidationFailed("at most 200 characters", field=f"{field}.name")
    contact = agent.get("contact")
    if not isinstance(contact, str):
        raise ValidationFailed(
            "the agent's e-mail address is required", field=f"{field}.contact"
        )
    contact = contact.strip()
    try:
        validate_email(contact)
    except ValidationError as error:
        raise ValidationFailed(
            "not a valid e-mail address", field=f"{field}.contact"
        ) from error
    poa = agent.get("power_of_attorney", False)
    if not isinstance(poa, bool):
        raise ValidationFailed(
            "must be true or false", field=f"{field}.power_of_attorney"
        )
    consumer = identity.get("email") if isinstance(identity, Mapping) else None
    if not isinstance(consumer, str) or not consumer.strip():
        raise ValidationFailed(
            "a request filed by an agent needs the consumer's own e-mail address: "
            "the consumer confirms there, directly",
            field="identity.email",
        )
    if consumer.strip().lower() == contact.lower():
        raise ValidationFailed(
            "is the consumer's own address; give the agent's, so the consumer "
            "confirms directly at theirs",
            field=f"{field}.contact",
        )
    if verified:
        raise ValidationFailed(
            "a request filed by an agent is verified by the consumer's own "
            "confirmation and the agent's recorded authority; leave verified out",
            field="verified",
        )
    return AgentInput(name=name.strip(), contact=contact, power_of_attorney=poa)


def agent_authorities_create(
    *, actor: Actor, pairs: list[tuple[Request, AgentInput]]
) -> None:
    """Record the agents of requests just written (inside their transaction)."""
    now = timezone.now()
    for request, agent in pairs:
        AgentAuthority.objects.create(
            request=request,
            agent_name=agent.name,
            agent_contact=agent.contact,
            power_of_attorney=agent.power_of_attorney,
            authority_recorded_at=now if agent.power_of_attorney else None,
            authority_recorded_by=actor.ref if agent.power_of_attorney else "",
        )
        audit_record(
            actor=actor,
            action="request.agent_recorded",
            obj=request,
            # Never the agent's name or address: the kind of authority only.
            data={"power_of_attorney": agent.power_of_attorney},
        )


def agent_refusal(*, request: Request) -> str | None:
    """Why an agent's request cannot be verified yet; None when it can (or
    when no agent filed it)."""
    authority = AgentAuthority.objects.filter(request=request).first()
    if authority is None:
        return None
    if not authority.authority_recorded:
        return "the agent's written authority is not recorded yet"
    if authority.consumer_confirmed_at is None:
        return (
            "the consumer has not yet confirmed directly that they gave the agent "
            "permission"
        )
    return None


def agent_permission_clean(
    uploaded_file: UploadedFile[bytes], *, field: str = "agent_permission"
) -> str:
    """Check a signed permission before anything is written: not empty, at
    most MAX_PERMISSION_BYTES, a PDF, PNG or JPEG by its content (and by its
    declared content type, when one is declared). Returns the suffix it is
    stored under."""
    size = uploaded_file.size or 0
    if size == 0:
        raise ValidationFailed("the file is empty", field=field)
    if size > MAX_PERMISSION_BYTES:
        limit = MAX_PERMISSION_BYTES
        raise ValidationFailed(
            f"the file is too large: at most {limit // (1024 * 1024)} MB"
            if limit >= 1024 * 1024
            else f"the file is too large: at most {limit} bytes",
            field=field,
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    declared = (getattr(uploaded_file, "content_type", "") or "").lower()
    for magic, content_types, suffix in _PERMISSION_TYPES:
        if head.startswith(magic):
            if declared not in _UNDECLARED and declared not in content_types:
                raise ValidationFailed(
                    f"the file is a {suffix.upper()} but was sent as {declared}",
                    field=field,
                )
            return suffix
    raise ValidationFailed(
        "must be a PDF, PNG or JPEG file (a scan or photo of the signed permission)",
        field=field,
    )


def agent_permission_attach(
    *, actor: Actor, request: Request, uploaded_file: UploadedFile[bytes]
) -> AgentAuthority:
    """Keep the agent's signed permission and record the authority. The file
    is deleted once the request is decided (`agent_permission_discard`)."""
    actor.require(Perm.REQUEST_CREATE)
    suffix = agent_permission_clean(uploaded_file)
    size = uploaded_file.size or 0
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    name = default_storage.save(
        f"agent-permissions/{request.public_id}/permission.{suffix}",
        uploaded_file,
    )
    try:
        with transaction.atomic():
            authority = (
                AgentAuthority.objects.select_for_update()
                .filter(request=request)
                .first()
            )
            if authority is None:
                raise IllegalTransition("this request was not filed by an agent")
            if not request.is_open:
                raise IllegalTransition("the request is closed")
            old = authority.permission_file
            authority.permission_file = name
            authority.permission_sha256 = digest.hexdigest()
            authority.permission_size = size
            authority.authority_recorded_at = timezone.now()
            authority.authority_recorded_by = actor.ref
            authority.save()
            audit_record(
                actor=actor,
                action="request.agent_authority_recorded",
                obj=request,
                data={"sha256": authority.permission_sha256, "size": size},
            )
    except BaseException:
        default_storage.delete(name)
        raise
    if old and old != name:
        default_storage.delete(old)
    return authority


def agent_consumer_confirm(*, actor: Actor, request: Request, method: str) -> bool:
    """The consumer proved control of their own address (code or link):
    record it as their direct confirmation. True if the request was filed by
    an agent."""
    changed = AgentAuthority.objects.filter(
        request=request, consumer_confirmed_at__isnull=True
    ).update(consumer_confirmed_at=timezone.now(), consumer_confirmed_method=method)
    if changed:
        audit_record(
            actor=actor,
            action="request.agent_confirmed_by_consumer",
            obj=request,
            data={"method": method},
        )
    return AgentAuthority.objects.filter(request=request).exists()


def agent_permission_discard(*, request: Request) -> None:
    """Delete the signed permission once the request is decided; its digest
    and size stay (B14: keep the fact of the check, not the document)."""
    authority = (
        AgentAuthority.objects.filter(
            request=request, permission_deleted_at__isnull=True
        )
        .exclude(permission_file="")
        .first()
    )
    if authority is None:
        return
    name = authority.permission_file
    AgentAuthority.objects.filter(pk=authority.pk).update(
        permission_file="", permission_deleted_at=timezone.now()
    )
    transaction.on_commit(lambda: default_storage.delete(name))
