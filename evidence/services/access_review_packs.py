"""The evidence pack of an access review: made on demand for a signed review
(or an interim one for an open review), its SHA-256 written to the audit
chain so `verify_evidence` accepts it. Nothing is stored: a signed review's
decisions are final, so a later copy carries the same facts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import AccessReview
from accounts.permissions import Perm
from audit.selectors import audit_chain_head
from evidence.packs.access_review_facts import access_review_facts
from evidence.packs.render import evidence_pack_render
from evidence.services.pack_records import pack_generated_record


@dataclass(frozen=True)
class AccessReviewPack:
    content: bytes
    sha256: str
    filename: str


def access_review_pack_generate(
    *, actor: Actor, review: AccessReview
) -> AccessReviewPack:
    """Render a review's pack as of now and record its SHA-256 in the chain."""
    actor.require(Perm.ACCESS_REVIEW_VIEW)
    review = AccessReview.objects.get(pk=review.pk)
    pack_id = uuid.uuid4()
    generated_at = timezone.now()
    head = audit_chain_head()
    facts = access_review_facts(
        review=review,
        head=head,
        pack_id=str(pack_id),
        generated_at=generated_at,
        generated_by=actor.ref,
    )
    rendered = evidence_pack_render(facts=facts)
    with transaction.atomic():
        pack_generated_record(
            actor=actor,
            obj=review,
            pack_id=pack_id,
            rendered=rendered,
            chain_head_sequence=head.sequence if head else 0,
        )
    return AccessReviewPack(
        content=rendered.content,
        sha256=rendered.sha256,
        filename=f"access-review-{review.created_at:%Y-%m-%d}-"
        f"{str(review.public_id)[:8]}-evidence.pdf",
    )
