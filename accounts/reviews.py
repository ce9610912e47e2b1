"""Access reviews (SOC 2 CC6.2, CC6.3): writes and reads, without their audit
events (accounts sits below audit; audit.access_reviews records them).

A review snapshots every active staff member (role, groups, last sign-in,
second factor) and every live API client (scopes, last call), flags what
has gone unused for ACCESS_REVIEW_UNUSED_DAYS, and takes one decision per
item: confirmed, or revoked (the account is deactivated and its sessions
end; the client's token is revoked). Once every item is decided a privacy
officer signs it: the decisions are sealed by their SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor, staff_role
from accounts.choices import ReviewDecision, ReviewItemKind, ReviewStatus, Role
from accounts.models import AccessReview, AccessReviewItem, ApiClient
from accounts.permissions import Perm
from accounts.security import sessions_end_all
from accounts.services import api_client_row_revoke
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed


def _staff_users() -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name__in=Role.values)
        )
        .distinct()
        .prefetch_related("groups")
        .order_by("username")
    )


def access_review_due(*, now: datetime | None = None) -> bool:
    """Has the review interval passed since the last review began (or none yet)?"""
    now = now or timezone.now()
    last = AccessReview.objects.order_by("-created_at").first()
    interval = timedelta(days=settings.ACCESS_REVIEW_INTERVAL_DAYS)
    return last is None or now - last.created_at >= interval


@transaction.atomic
def access_review_row_create(*, actor: Actor) -> AccessReview:
    """Open a review listing every staff member and live API client."""
    actor.require(Perm.ACCESS_REVIEW_MANAGE)
    now = timezone.now()
    unused_days = settings.ACCESS_REVIEW_UNUSED_DAYS
    cutoff = now - timedelta(days=unused_days)
    review = AccessReview.objects.create(started_by=actor.ref, unused_days=unused_days)
    with_app = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
    )
    items = [
        AccessReviewItem(
            review=review,
            kind=ReviewItemKind.STAFF,
            user=user,
            name=user.get_username(),
            role=staff_role(user) or "",
            groups=sorted(group.name for group in user.groups.all()),
            superuser=user.is_superuser,
            mfa_enabled=user.pk in with_app,
            last_used_at=user.last_login,
            unused=(user.last_login or user.date_joined) < cutoff,
        )
        for user in _staff_users()
    ]
    items += [
        AccessReviewItem(
            review=review,
            kind=ReviewItemKind.API_CLIENT,
            client=client,
            name=client.name,
            scopes=list(client.scopes),
            last_used_at=client.last_used_at,
            unused=(client.last_used_at or client.created_at) < cutoff,
        )
        for client in ApiClient.objects.filter(revoked_at__isnull=True)
    ]
    AccessReviewItem.objects.bulk_create(items)
    return review


@transaction.atomic
def access_review_item_row_decide(
    *, actor: Actor, item: AccessReviewItem, decision: str, note: str = ""
) -> AccessReviewItem:
    """Confirm or revoke one item of an open review; a revocation takes effect
    at once (account deactivated and signed out, or token revoked)."""
    actor.require(Perm.ACCESS_REVIEW_MANAGE)
    if actor.user_id is None:
        raise NotPermitted("only a staff member may decide an access review")
    if decision not in (ReviewDecision.CONFIRMED, ReviewDecision.REVOKED):
        raise ValidationFailed(
            "decision must be confirmed or revoked", field="decision"
        )
    review = AccessReview.objects.select_for_update().get(pk=item.review_id)
    if review.status != ReviewStatus.OPEN:
        raise IllegalTransition("this review is signed: its decisions are final")
    if decision == ReviewDecision.REVOKED and item.user_id == actor.user_id:
        raise ValidationFailed(
            "you cannot revoke your own access; another officer must", field="decision"
        )
    changed = AccessReviewItem.objects.filter(
        pk=item.pk, decision=ReviewDecision.PENDING
    ).update(
        decision=decision,
        decided_by_id=actor.user_id,
        decided_at=timezone.now(),
        note=note.strip()[:500],
    )
    if changed != 1:
        raise IllegalTransition("this item is decided already")
    item.refresh_from_db()
    if decision == ReviewDecision.REVOKED:
        _revoke(actor=actor, item=item)
    return item


def _revoke(*, actor: Actor, item: AccessReviewItem) -> None:
    if item.user is not None:
        User.objects.filter(pk=item.user.pk).update(is_active=False)
        sessions_end_all(user=item.user)
    elif item.client is not None and item.client.revoked_at is None:
        api_client_row_revoke(actor=actor, client=item.client)


def access_review_snapshot(review: AccessReview) -> list[dict[str, Any]]:
    """The decisions as they are signed: what the signature's digest covers."""
    return [
        {
            "id": str(item.public_id),
            "kind": item.kind,
            "name": item.name,
            "role": item.role,
            "groups": item.groups,
            "scopes": item.scopes,
            "superuser": item.superuser,
            "mfa_enabled": item.mfa_enabled,
            "last_used_at": (
                item.last_used_at.isoformat() if item.last_used_at else None
            ),
            "unused": item.unused,
            "decision": item.decision,
            "decided_by": f"user:{item.decided_by_id}" if item.decided_by_id else "",
            "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            "note": item.note,
        }
        for item in review.items.order_by("kind", "name", "pk")
    ]


def access_review_digest(review: AccessReview) -> str:
    snapshot = json.dumps(
        access_review_snapshot(review), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(snapshot.encode()).hexdigest()


@transaction.atomic
def access_review_row_sign(
    *, actor: Actor, review: AccessReview, statement: str
) -> AccessReview:
    """Sign a review whose every item is decided; its decisions become final."""
    actor.require(Perm.ACCESS_REVIEW_MANAGE)
    if actor.user_id is None:
        raise NotPermitted("only a staff member may sign an access review")
    review = AccessReview.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.OPEN:
        raise IllegalTransition("this review is signed already")
    statement = statement.strip()
    if not statement:
        raise ValidationFailed("say what you attest by signing", field="statement")
    pending = review.items.filter(decision=ReviewDecision.PENDING).count()
    if pending:
        raise ValidationFailed(
            f"{pending} item(s) still to confirm or revoke", field="items"
        )
    review.status = ReviewStatus.SIGNED
    review.signed_by_id = actor.user_id
    review.signed_at = timezone.now()
    review.statement = statement[:2000]
    review.signed_digest = access_review_digest(review)
    review.save(
        update_fields=[
            "status",
            "signed_by",
            "signed_at",
            "statement",
            "signed_digest",
            "updated_at",
        ]
    )
    return review


# --- reads ----------------------------------------------------------------------


def access_review_list(*, actor: Actor) -> QuerySet[AccessReview]:
    actor.require(Perm.ACCESS_REVIEW_VIEW)
    return AccessReview.objects.annotate(
        item_count=Count("items"),
        pending_count=Count("items", filter=Q(items__decision=ReviewDecision.PENDING)),
        unused_count=Count("items", filter=Q(items__unused=True)),
    )


def access_review_get(*, actor: Actor, public_id: str) -> AccessReview:
    actor.require(Perm.ACCESS_REVIEW_VIEW)
    return AccessReview.objects.select_related("signed_by").get(public_id=public_id)


def access_review_item_get(
    *, actor: Actor, review: AccessReview, public_id: str
) -> AccessReviewItem:
    actor.require(Perm.ACCESS_REVIEW_VIEW)
    return AccessReviewItem.objects.select_related("user", "client").get(
        review=review, public_id=public_id
    )


def access_review_items(*, review: AccessReview) -> QuerySet[AccessReviewItem]:
    return review.items.select_related("decided_by").order_by("kind", "name", "pk")
