"""The facts of a signed access review's evidence pack (reads only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from accounts.choices import ReviewDecision, ReviewItemKind
from accounts.models import AccessReview
from accounts.reviews import access_review_digest, access_review_snapshot
from audit.models import AuditEvent
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    integrity_at_generation,
    iso,
    pack_header,
)


def access_review_facts(
    *,
    review: AccessReview,
    head: AuditEvent | None,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
) -> dict[str, Any]:
    """Every fact of a review's pack, JSON-ready, as of the chain `head`: the
    items and decisions as signed, the signature, and the review's events
    (its start, each decision, its signature, and the revocations it made)."""
    head_sequence = head.sequence if head is not None else 0
    review_id = str(review.public_id)
    scope = Q(object_type=AccessReview._meta.label_lower, object_id=review_id) | Q(
        data__access_review=review_id
    )
    events = list(
        AuditEvent.objects.filter(scope, sequence__lte=head_sequence).order_by(
            "sequence"
        )
    )
    items = access_review_snapshot(review)
    signed_by = f"user:{review.signed_by_id}" if review.signed_by_id else ""
    labels = actor_labels(
        [e.actor for e in events]
        + [item["decided_by"] for item in items]
        + [review.started_by, signed_by, generated_by]
    )
    digest_now = access_review_digest(review)

    def count(kind: str, decision: str | None = None) -> int:
        return sum(
            1
            for item in items
            if item["kind"] == kind and decision in (None, item["decision"])
        )

    return {
        "kind": "access_review",
        "pack": pack_header(
            pack_id=pack_id, generated_at=generated_at, generated_by=generated_by
        ),
        "review": {
            "id": review_id,
            "status": review.status,
            "started_at": iso(review.created_at),
            "started_by": review.started_by,
            "unused_days": review.unused_days,
            "signed_by": signed_by,
            "signed_at": iso(review.signed_at),
            "statement": review.statement,
            "signed_digest": review.signed_digest,
            "digest_at_generation": digest_now,
            "unchanged_since_signing": digest_now == review.signed_digest,
        },
        "summary": {
            "staff": count(ReviewItemKind.STAFF),
            "staff_revoked": count(ReviewItemKind.STAFF, ReviewDecision.REVOKED),
            "api_clients": count(ReviewItemKind.API_CLIENT),
            "api_clients_revoked": count(
                ReviewItemKind.API_CLIENT, ReviewDecision.REVOKED
            ),
            "unused": sum(1 for item in items if item["unused"]),
            "staff_without_mfa": sum(
                1
                for item in items
                if item["kind"] == ReviewItemKind.STAFF and not item["mfa_enabled"]
            ),
        },
        "items": items,
        "audit": {
            "scope": {
                "object_type": AccessReview._meta.label_lower,
                "object_id": review_id,
            },
            "events": [audit_event_facts(e) for e in events],
            "chain_head": chain_head_facts(head),
            "integrity_at_generation": integrity_at_generation(events),
        },
        "actors": labels,
    }
