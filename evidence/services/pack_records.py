"""What every evidence pack does once rendered, whoever makes it (a request,
a purge run, an access review, a breach, the records of processing): its
SHA-256 goes on the audit chain in one `evidence_pack.generated` event, which
`verify_evidence` looks for, and a stored PDF is deleted again if recording
it fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models

from accounts.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from evidence.packs.render import RenderedPack

GENERATED = "evidence_pack.generated"


def pack_generated_record(
    *,
    actor: Actor,
    obj: models.Model | None,
    pack_id: Any,
    rendered: RenderedPack,
    chain_head_sequence: int,
    internal: bool = False,
    **more: Any,
) -> AuditEvent:
    """The audit event of a generated pack (`more`: what a kind adds, never
    personal data). Call it in the transaction that records the pack."""
    return audit_record(
        actor=actor,
        action=GENERATED,
        obj=obj,
        data={
            "pack": str(pack_id),
            **more,
            "sha256": rendered.sha256,
            "facts_sha256": rendered.facts_sha256,
            "size": rendered.size,
            "pages": rendered.pages,
            "internal": internal,
            "chain_head_sequence": chain_head_sequence,
        },
    )


@contextmanager
def pack_file_saved(name: str, content: bytes) -> Iterator[str]:
    """Save a pack's PDF under `name` (storage may adjust it), yielding the
    stored name; if the block that records it raises, the file is deleted."""
    stored = default_storage.save(name, ContentFile(content))
    try:
        yield stored
    except BaseException:
        default_storage.delete(stored)
        raise
