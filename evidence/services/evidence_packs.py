"""Generating, recording and handing out evidence packs.

A pack is rendered outside any transaction (it takes a fraction of a second),
then stored, recorded and its SHA-256 written to the audit chain in one
transaction; a failure there removes the stored file again. Internal copies
(with the subject's identifiers) are recorded and audited but never stored.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.models import AuditEvent
from audit.selectors import audit_chain_head
from audit.services import audit_record
from dsr.choices import CLOSED_STATUSES
from dsr.models import Request
from evidence.choices import EvidenceKind
from evidence.models import EvidencePack
from evidence.packs.purge_facts import purge_run_facts
from evidence.packs.render import RenderedPack, evidence_pack_render
from evidence.packs.request_facts import request_facts
from evidence.services.pack_records import pack_generated_record
from privacydesk.errors import NotPermitted
from retention.choices import RunStatus
from retention.models import PurgeRun

if TYPE_CHECKING:
    from retention.models import PurgeRun

logger = logging.getLogger(__name__)
SYSTEM = actor_system("evidence")
DOWNLOADED = "evidence_pack.downloaded"


@dataclass(frozen=True)
class GeneratedPack:
    """A pack's record and its bytes (the only copy, for an internal one)."""

    pack: EvidencePack
    content: bytes


def _object_ref(obj: Request | PurgeRun) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.public_id)


def _record(
    *,
    actor: Actor,
    obj: Request | PurgeRun,
    rendered: RenderedPack,
    pack_id: uuid.UUID,
    generated_at: datetime,
    head: AuditEvent | None,
    internal: bool,
) -> EvidencePack:
    """Store (unless internal), record, and write the PDF's digest to the chain."""
    is_request = isinstance(obj, Request)
    kind = EvidenceKind.REQUEST if is_request else EvidenceKind.PURGE_RUN
    folder = "requests" if is_request else "purge-runs"
    stored = ""
    try:
        with transaction.atomic():
            if not internal:
                stored = default_storage.save(
                    f"evidence/{folder}/{obj.public_id}/{pack_id}.pdf",
                    ContentFile(rendered.content),
                )
            pack = EvidencePack.objects.create(
                public_id=pack_id,
                kind=kind,
                request=obj if isinstance(obj, Request) else None,
                purge_run=None if isinstance(obj, Request) else obj,
                internal=internal,
                file=stored,
                size=rendered.size,
                pages=rendered.pages,
                sha256=rendered.sha256,
                facts_sha256=rendered.facts_sha256,
                pdf_variant=rendered.pdf_variant,
                generated_at=generated_at,
                generated_by=actor.ref,
                chain_head_sequence=head.sequence if head else 0,
                chain_head_hash=head.hash if head else "0" * 64,
            )
            pack_generated_record(
                actor=actor,
                obj=obj,
                pack_id=pack_id,
                rendered=rendered,
                chain_head_sequence=pack.chain_head_sequence,
                internal=internal,
            )
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    logger.info(
        "evidence pack %s generated for %s %s (%d pages, %d bytes)",
        pack_id,
        kind,
        obj.pk,
        rendered.pages,
        rendered.size,
    )
    return pack


# --- request packs ------------------------------------------------------------------


def _require_internal(actor: Actor) -> None:
    actor.require(Perm.EVIDENCE_INTERNAL)
    if actor.kind != "staff":
        raise NotPermitted(
            "only a privacy officer signed in to the dashboard may take an "
            "internal copy"
        )


def evidence_pack_generate(
    *, actor: Actor, request: Request, internal: bool = False
) -> GeneratedPack:
    """Render a request's pack as of now, record it and audit its SHA-256."""
    actor.require(Perm.REQUEST_VIEW)
    if internal:
        _require_internal(actor)
    request = Request.objects.select_related("subject").get(pk=request.pk)
    pack_id = uuid.uuid4()
    generated_at = timezone.now()
    head = audit_chain_head()
    facts = request_facts(
        request=request,
        head=head,
        pack_id=str(pack_id),
        generated_at=generated_at,
        generated_by=actor.ref,
        internal=internal,
    )
    rendered = evidence_pack_render(facts=facts)
    pack = _record(
        actor=actor,
        obj=request,
        rendered=rendered,
        pack_id=pack_id,
        generated_at=generated_at,
        head=head,
        internal=internal,
    )
    return GeneratedPack(pack=pack, content=rendered.content)


def evidence_pack_generate_on_close(*, request_id: int) -> str:
    """The pack of a request that has just closed (the task's service).

    Safe to run twice: a pack generated since closing is enough."""
    request = Request.objects.select_related("subject").filter(pk=request_id).first()
    if request is None:
        return "no-request"
    if request.status not in CLOSED_STATUSES or request.closed_at is None:
        return "not-closed"
    if EvidencePack.objects.filter(
        request=request, internal=False, generated_at__gte=request.closed_at
    ).exists():
        return "exists"
    evidence_pack_generate(actor=SYSTEM, request=request)
    return "generated"


def _changed_since(obj: Request | PurgeRun, pack: EvidencePack) -> bool:
    """Did anything happen to `obj` after the pack's chain head (other than
    packs being made or fetched)?"""
    object_type, object_id = _object_ref(obj)
    return (
        AuditEvent.objects.filter(
            object_type=object_type,
            object_id=object_id,
            sequence__gt=pack.chain_head_sequence,
        )
        .exclude(action__startswith="evidence_pack.")
        .exists()
    )


def _stored_content(pack: EvidencePack) -> bytes | None:
    """The stored bytes, if they are still there and still what was recorded."""
    if not pack.file or not default_storage.exists(pack.file):
        return None
    with default_storage.open(pack.file, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != pack.sha256:
        logger.warning("stored evidence pack %s does not match its digest", pack.pk)
        return None
    return content


def _reusable(
    obj: Request | PurgeRun, packs: Any, *, finished: bool
) -> GeneratedPack | None:
    if not finished:
        return None  # an open request or a running purge: always as of now
    pack = packs.filter(internal=False).exclude(file="").first()
    if pack is None or _changed_since(obj, pack):
        return None
    content = _stored_content(pack)
    return GeneratedPack(pack=pack, content=content) if content is not None else None


def evidence_pack_download(
    *, actor: Actor, request: Request, internal: bool = False
) -> GeneratedPack:
    """The pack staff or an API client asked for, and an audit event saying so.

    A closed request whose stored pack is still current gets that same file
    (the one whose SHA-256 is in the chain); otherwise a new pack is made.
    An internal copy is always made afresh and never kept."""
    actor.require(Perm.REQUEST_VIEW)
    if internal:
        return evidence_pack_generate(actor=actor, request=request, internal=True)
    result = _reusable(
        request,
        EvidencePack.objects.filter(request=request).order_by("-generated_at", "-pk"),
        finished=request.status in CLOSED_STATUSES,
    )
    if result is None:
        result = evidence_pack_generate(actor=actor, request=request)
    audit_record(
        actor=actor,
        action=DOWNLOADED,
        obj=request,
        data={"pack": str(result.pack.public_id), "sha256": result.pack.sha256},
    )
    return result


# --- purge-run packs ---------------------------------------------------------------


def evidence_pack_generate_for_run(*, actor: Actor, run: Any) -> GeneratedPack:
    """Render a purge run's pack as of now, record it and audit its SHA-256."""
    actor.require(Perm.RETENTION_VIEW)
    run = PurgeRun.objects.select_related("policy").get(pk=run.pk)
    pack_id = uuid.uuid4()
    generated_at = timezone.now()
    head = audit_chain_head()
    facts = purge_run_facts(
        run=run,
        head=head,
        pack_id=str(pack_id),
        generated_at=generated_at,
        generated_by=actor.ref,
    )
    rendered = evidence_pack_render(facts=facts)
    pack = _record(
        actor=actor,
        obj=run,
        rendered=rendered,
        pack_id=pack_id,
        generated_at=generated_at,
        head=head,
        internal=False,
    )
    return GeneratedPack(pack=pack, content=rendered.content)


def evidence_pack_generate_on_run_end(*, run_id: int) -> str:
    """The pack of a purge run that has just ended (the task's service)."""
    run = PurgeRun.objects.select_related("policy").filter(pk=run_id).first()
    if run is None:
        return "no-run"
    if run.status == RunStatus.RUNNING or run.finished_at is None:
        return "running"
    if EvidencePack.objects.filter(
        purge_run=run, generated_at__gte=run.finished_at
    ).exists():
        return "exists"
    evidence_pack_generate_for_run(actor=SYSTEM, run=run)
    return "generated"


def evidence_pack_download_for_run(*, actor: Actor, run: Any) -> GeneratedPack:
    actor.require(Perm.RETENTION_VIEW)
    result = _reusable(
        run,
        EvidencePack.objects.filter(purge_run=run).order_by("-generated_at", "-pk"),
        finished=run.status != RunStatus.RUNNING,
    )
    if result is None:
        result = evidence_pack_generate_for_run(actor=actor, run=run)
    audit_record(
        actor=actor,
        action=DOWNLOADED,
        obj=run,
        data={"pack": str(result.pack.public_id), "sha256": result.pack.sha256},
    )
    return result
