"""Placing and releasing legal holds.

A hold covers one data subject, a whole connector, or one table of a
connector. While active it wins over every retention policy and over
erasure requests (the request records the exemption and its legal basis).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.models import Connector
from dsr.choices import HoldScope
from dsr.models import LegalHold
from privacydesk.errors import IllegalTransition, ValidationFailed
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create, subject_link_identifiers


def _text(value: Any, field: str, *, minimum: int, maximum: int) -> str:
    text = " ".join(str(value or "").split())
    if len(text) < minimum:
        raise ValidationFailed(
            "required (a few words at least)" if minimum > 1 else "required",
            field=field,
        )
    if len(text) > maximum:
        raise ValidationFailed(f"at most {maximum} characters", field=field)
    return text


def hold_subject_for_identity(*, actor: Actor, identity: Any) -> DataSubject:
    """The subject these identifiers name; created (with all of them) when
    Privacy Desk has never seen the person, since a hold may come before any
    request does. Staff vouch for the identifiers, so all are linked."""
    actor.require(Perm.RETENTION_MANAGE)
    claims = identity_claims(identity, field="subject_identity")
    subject = subject_get_or_create(claims=claims)
    subject_link_identifiers(subject=subject, claims=claims)
    return subject


def legal_hold_place(
    *,
    actor: Actor,
    scope: str,
    reason: str,
    legal_basis: str,
    subject: DataSubject | None = None,
    connector: Connector | None = None,
    table: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> LegalHold:
    """Place a hold; reason and legal basis are required."""
    actor.require(Perm.RETENTION_MANAGE)
    if scope not in HoldScope.values:
        raise ValidationFailed(f"one of {', '.join(HoldScope.values)}", field="scope")
    reason = _text(reason, "reason", minimum=5, maximum=2000)
    legal_basis = _text(legal_basis, "legal_basis", minimum=3, maximum=200)
    table = (table or "").strip()
    if scope == HoldScope.SUBJECT:
        if subject is None:
            raise ValidationFailed("name the subject", field="subject")
        connector, table = None, ""
    else:
        subject = None
        if connector is None:
            raise ValidationFailed("choose a connector", field="connector")
        if scope == HoldScope.TABLE:
            if not table:
                raise ValidationFailed("name the table", field="table")
            _check_table(connector, table)
        else:
            table = ""
    now = timezone.now()
    starts_at = starts_at or now
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed("must be after the start", field="ends_at")
    with transaction.atomic():
        hold = LegalHold.objects.create(
            subject=subject,
            connector=connector,
            table=table,
            reason=reason,
            legal_basis=legal_basis,
            starts_at=starts_at,
            ends_at=ends_at,
            placed_by=actor.ref,
            placed_by_label=actor.label[:150],
        )
        audit_record(
            actor=actor,
            action="retention.hold_placed",
            obj=hold,
            data={
                "scope": hold.scope,
                "subject": subject.pseudonym if subject else "",
                "connector": connector.name if connector else "",
                "table": table,
                "legal_basis": legal_basis,
                "starts_at": starts_at,
                "ends_at": ends_at,
            },
        )
    return hold


def _check_table(connector: Connector, table: str) -> None:
    try:
        locations = connector.instance().locations()
    except Exception:  # an invalid config: the hold still stands as typed
        return
    if locations is None:
        return  # a kind without tables: the name is the staff's to choose
    names = [location.name for location in locations]
    if table not in names:
        raise ValidationFailed(
            f"{connector.name} maps no table {table}; one of {', '.join(names)}",
            field="table",
        )


def legal_hold_release(*, actor: Actor, hold: LegalHold, note: str = "") -> LegalHold:
    """End a hold now; the row stays as evidence of when and by whom."""
    actor.require(Perm.RETENTION_MANAGE)
    note = " ".join(str(note or "").split())[:2000]
    now = timezone.now()
    with transaction.atomic():
        changed = LegalHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=now,
            released_by=actor.ref,
            released_by_label=actor.label[:150],
            release_note=note,
            updated_at=now,
        )
        if changed != 1:
            raise IllegalTransition("this hold is already released")
        audit_record(
            actor=actor,
            action="retention.hold_released",
            obj=hold,
            data={"scope": hold.scope, "legal_basis": hold.legal_basis, "note": note},
        )
    hold.refresh_from_db()
    return hold
