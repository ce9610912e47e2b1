"""The audited actions of access reviews (SOC 2 CC6.2, CC6.3).

accounts keeps the reviews and records nothing; each entry point here does
the accounts write and appends its audit event in the same transaction.
The signature's digest goes into the chain, so a signed review's evidence
pack can be checked against it.
"""

from __future__ import annotations

from django.db import transaction

from accounts.actors import Actor, actor_system
from accounts.choices import ReviewDecision
from accounts.models import AccessReview, AccessReviewItem
from accounts.reviews import (
    access_review_due,
    access_review_item_row_decide,
    access_review_row_create,
    access_review_row_sign,
)
from audit.services import audit_batch, audit_record

SCHEDULER = actor_system("access-review-schedule")


def access_review_create(*, actor: Actor) -> AccessReview:
    """Open a review of every staff member and live API client."""
    with transaction.atomic(), audit_batch():
        review = access_review_row_create(actor=actor)
        items = review.items.all()
        audit_record(
            actor=actor,
            action="access_review.started",
            obj=review,
            data={
                "staff": sum(1 for item in items if item.kind == "staff"),
                "api_clients": sum(1 for item in items if item.kind == "api_client"),
                "unused": [str(item.public_id) for item in items if item.unused],
                "unused_days": review.unused_days,
            },
        )
    return review


def access_review_create_if_due() -> str:
    """The beat task's service: open a review when the interval has passed."""
    if not access_review_due():
        return "not-due"
    access_review_create(actor=SCHEDULER)
    return "created"


def access_review_item_decide(
    *, actor: Actor, item: AccessReviewItem, decision: str, note: str = ""
) -> AccessReviewItem:
    with transaction.atomic(), audit_batch():
        item = access_review_item_row_decide(
            actor=actor, item=item, decision=decision, note=note
        )
        data: dict[str, str | int] = {
            "item": str(item.public_id),
            "kind": item.kind,
            "decision": item.decision,
        }
        if item.user_id is not None:
            data["user"] = item.user_id
        if item.client is not None:
            data["client"] = str(item.client.public_id)
        audit_record(
            actor=actor, action="access_review.decided", obj=item.review, data=data
        )
        if item.decision == ReviewDecision.REVOKED and item.client is not None:
            audit_record(
                actor=actor,
                action="api_client.revoked",
                obj=item.client,
                data={"access_review": str(item.review.public_id)},
            )
        elif item.decision == ReviewDecision.REVOKED and item.user is not None:
            audit_record(
                actor=actor,
                action="staff.deactivated",
                obj=item.user,
                data={"access_review": str(item.review.public_id)},
            )
    return item


def access_review_sign(
    *, actor: Actor, review: AccessReview, statement: str
) -> AccessReview:
    with transaction.atomic():
        review = access_review_row_sign(actor=actor, review=review, statement=statement)
        audit_record(
            actor=actor,
            action="access_review.signed",
            obj=review,
            data={
                "digest": review.signed_digest,
                "items": review.items.count(),
                "revoked": review.items.filter(decision=ReviewDecision.REVOKED).count(),
            },
        )
    return review
