"""A breach's evidence pack: the whole incident as a PDF/A-3b with its facts
embedded as JSON, its SHA-256 written to the audit chain.

Rendered by the evidence app's renderer outside any transaction, then
stored, recorded and audited in one transaction (a failure removes the
stored file again), as the evidence app does for requests and purge runs;
`manage.py verify_evidence FILE.pdf` checks it the same way. An incident
changes while it is open, so each download is a new pack as of now.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.selectors import audit_chain_head
from breaches.evidence_facts import breach_facts
from breaches.models import Breach, BreachPack
from evidence.packs.render import evidence_pack_render
from evidence.services.pack_records import pack_file_saved, pack_generated_record

logger = logging.getLogger(__name__)
TEMPLATE = "evidence/breach_pack.html"


@dataclass(frozen=True)
class GeneratedBreachPack:
    """A pack's record and its bytes."""

    pack: BreachPack
    content: bytes


def breach_pack_generate(*, actor: Actor, breach: Breach) -> GeneratedBreachPack:
    """Render the breach's pack as of now, store it, record it, and write
    its SHA-256 to the chain (the event `verify_evidence` looks for)."""
    actor.require(Perm.BREACH_VIEW)
    breach = Breach.objects.get(pk=breach.pk)
    pack_id = uuid.uuid4()
    generated_at = timezone.now()
    head = audit_chain_head()
    facts = breach_facts(
        breach=breach,
        head=head,
        pack_id=str(pack_id),
        generated_at=generated_at,
        generated_by=actor.ref,
    )
    rendered = evidence_pack_render(
        facts=facts,
        template=TEMPLATE,
        headers=(
            f"{facts['pack']['controller']} · Evidence pack · Personal data breach",
            breach.reference,
        ),
    )
    chain_head_sequence = head.sequence if head else 0
    with (
        pack_file_saved(
            f"evidence/breaches/{breach.public_id}/{pack_id}.pdf", rendered.content
        ) as stored,
        transaction.atomic(),
    ):
        pack = BreachPack.objects.create(
            public_id=pack_id,
            breach=breach,
            file=stored,
            size=rendered.size,
            pages=rendered.pages,
            sha256=rendered.sha256,
            facts_sha256=rendered.facts_sha256,
            pdf_variant=rendered.pdf_variant,
            generated_at=generated_at,
            generated_by=actor.ref,
            chain_head_sequence=chain_head_sequence,
            chain_head_hash=head.hash if head else "0" * 64,
        )
        pack_generated_record(
            actor=actor,
            obj=breach,
            pack_id=pack_id,
            rendered=rendered,
            chain_head_sequence=chain_head_sequence,
        )
    logger.info(
        "evidence pack %s generated for breach %s (%d pages, %d bytes)",
        pack_id,
        breach.pk,
        rendered.pages,
        rendered.size,
    )
    return GeneratedBreachPack(pack=pack, content=rendered.content)
