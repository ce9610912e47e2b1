"""Verifying a CCPA non-account holder by data points (CCPA-REG §§7060(h),
7062; REQUIREMENTS B15), when `CCPA_DATA_POINT_MATCHING` is on.

A California requester who files in the portal first proves control of
their e-mail address (the code); then gives data points (name, phone, postal
code, an order number, a street address) which every store that can
(`ConnectorKind.matches_data_points`) matches against the rows it holds for
that address. The rule:

- deletion and correction: 2 matched points ("reasonable degree of
  certainty", §7062(b), (d));
- a copy of the data (access, portability: "specific pieces"): 3 matched
  points and a declaration signed under penalty of perjury (§7062(c));
- a correction is never verified with the field being corrected (§7060(h)):
  the requester names it, and a correction's own field names count too.

Only "matched N of M points, of these kinds" is recorded, in the
`DataPointCheck` row, the audit event and the evidence pack: never a value.
A request filed by an authorised agent is verified by §7063 instead (the
consumer's own confirmation and the agent's written authority).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import actor_for_subject
from audit.services import audit_record
from connectors.base import ConnectorError, Identity, Unsupported
from connectors.data_points import KINDS, MAX_LENGTH
from connectors.models import Connector
from dsr.choices import Channel, Regime, RequestKind
from dsr.models import AgentAuthority, DataPointCheck, Request
from dsr.notifications import notify_subject
from dsr.selectors import data_points_pending
from dsr.services.requests import request_mark_verified
from privacydesk.errors import IllegalTransition, ValidationFailed

# The words of the declaration the requester signs (§7062(c)), shown by the
# checkbox and recorded as signed with its time.
DECLARATION = (
    "I declare under penalty of perjury under the laws of the State of "
    "California that I am the consumer whose personal information is the "
    "subject of this request."
)
_SPECIFIC_PIECES = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY})
_REASONABLE = frozenset({RequestKind.ERASURE, RequestKind.RECTIFICATION})
# A correction's field names that are a data point's kind.
_FIELD_KINDS = (
    ("phone", re.compile(r"phone|mobile|tel")),
    ("postal_code", re.compile(r"zip|postal|postcode")),
    ("street_address", re.compile(r"address|street")),
    ("order_number", re.compile(r"order")),
    ("name", re.compile(r"name")),
)


@dataclass(frozen=True)
class Requirement:
    """How many points must match, and whether the declaration is needed."""

    points: int
    declaration: bool


def data_points_requirement(*, request: Request) -> Requirement | None:
    """What a request must prove by data points; None when it needs none
    (the setting is off, not CCPA, not the portal, or a kind §7062 does not
    cover: opt-outs and limits need no verification)."""
    if not settings.CCPA_DATA_POINT_MATCHING:
        return None
    if request.regime != Regime.CCPA or request.channel != Channel.PORTAL:
        return None
    if request.kind in _SPECIFIC_PIECES:
        return Requirement(points=3, declaration=True)
    if request.kind in _REASONABLE:
        return Requirement(points=2, declaration=False)
    return None


def data_points_start(*, request: Request, method: str) -> bool:
    """The e-mail code was right: open the data-point step if the request
    needs one (inside the code's transaction). True: it waits for it."""
    requirement = data_points_requirement(request=request)
    if requirement is None:
        return False
    if AgentAuthority.objects.filter(request=request).exists():
        return False  # §7063: the agent's authority and the consumer's word
    check, created = DataPointCheck.objects.get_or_create(
        request=request,
        defaults={
            "points_required": requirement.points,
            "declaration_required": requirement.declaration,
            "email_confirmed_at": timezone.now(),
            "email_confirmed_method": method,
        },
    )
    if created:
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="request.data_points_requested",
            obj=request,
            data={
                "points_required": requirement.points,
                "declaration_required": requirement.declaration,
            },
        )
    return check.passed_at is None


def data_points_excluded(*, request: Request, corrected: str = "") -> list[str]:
    """The kinds that cannot prove who asks for this correction (§7060(h)):
    the one the requester names and those its corrections' fields name."""
    if request.kind != RequestKind.RECTIFICATION:
        return []
    excluded = {corrected} if corrected in KINDS else set()
    for field in (request.corrections or {}).keys():
        key = str(field).lower()
        for kind, pattern in _FIELD_KINDS:
            if pattern.search(key):
                excluded.add(kind)
                break
    return sorted(excluded)


def _points_clean(
    points: Mapping[str, Any], excluded: list[str], required: int
) -> dict[str, str]:
    clean: dict[str, str] = {}
    for kind, value in points.items():
        if kind not in KINDS:
            raise ValidationFailed("unknown data point", field=f"points.{kind}")
        if not isinstance(value, str) or not value.strip():
            continue
        if len(value) > MAX_LENGTH:
            raise ValidationFailed(
                f"at most {MAX_LENGTH} characters", field=f"points.{kind}"
            )
        if kind in excluded:
            raise ValidationFailed(
                "this is what you want corrected, so it cannot show it is you; "
                "leave it empty and give other details",
                field=f"points.{kind}",
            )
        clean[kind] = value.strip()
    if len(clean) < required:
        raise ValidationFailed(
            f"give at least {required} of these details", field="points"
        )
    return clean


def _match(request: Request, points: dict[str, str]) -> tuple[set[str], int, int]:
    """Ask every enabled store that can match: (kinds matched somewhere,
    stores asked, stores that failed). Only the rows found by the address
    the code proved are searched."""
    identity = Identity(emails=(str(request.identity.get("email") or ""),))
    matched: set[str] = set()
    asked = failed = 0
    for connector in Connector.objects.filter(enabled=True).order_by("name"):
        store = connector.instance()
        if not store.matches_data_points:
            continue  # this kind cannot match: it proves nothing either way
        asked += 1
        try:
            answer = store.match_data_points(identity, points)
        except (ConnectorError, Unsupported):
            failed += 1  # a store that cannot answer proves nothing
            continue
        matched.update(kind for kind, found in answer.items() if found)
    return matched, asked, failed


def data_points_submit(
    *,
    request: Request,
    points: Mapping[str, Any],
    corrected: str = "",
    declaration: bool = False,
) -> DataPointCheck:
    """Check the requester's data points against the stores; verify the
    request when enough match. Errors name the field (`points.<kind>`,
    `points`, `declaration`); a refused step writes nothing."""
    check = data_points_pending(request=request)
    if check is None:
        raise IllegalTransition("this request is not waiting for data points")
    if check.attempts >= settings.CCPA_DATA_POINT_ATTEMPTS:
        raise IllegalTransition(
            "too many tries: our privacy team will contact you to confirm it is you"
        )
    excluded = data_points_excluded(request=request, corrected=corrected)
    clean = _points_clean(points, excluded, check.points_required)
    if check.declaration_required and not declaration:
        raise ValidationFailed(
            "tick the declaration: a copy of your data needs it", field="declaration"
        )
    matched, asked, failed = _match(request, clean)
    actor = actor_for_subject(str(request.public_id))
    now = timezone.now()
    with transaction.atomic():
        check = DataPointCheck.objects.select_for_update().get(pk=check.pk)
        if check.passed_at is not None:
            return check  # a second tab passed it meanwhile
        check.attempts += 1
        check.last_attempt_at = now
        check.points_given = len(clean)
        check.points_matched = len(matched)
        check.kinds_given = sorted(clean)
        check.kinds_matched = sorted(matched)
        check.kinds_excluded = excluded
        check.stores_asked, check.stores_failed = asked, failed
        passed = len(matched) >= check.points_required
        if check.declaration_required and declaration:
            check.declaration_signed_at = now
        if passed:
            check.passed_at = now
        check.save()
        audit_record(
            actor=actor,
            action="request.data_points_checked",
            obj=request,
            # Counts and kinds only, never a value (B15; §7060(c)).
            data={
                "attempt": check.attempts,
                "points_given": check.points_given,
                "points_matched": check.points_matched,
                "points_required": check.points_required,
                "kinds_given": check.kinds_given,
                "kinds_matched": check.kinds_matched,
                "kinds_excluded": excluded,
                "declaration_signed": check.declaration_signed_at is not None,
                "stores_asked": asked,
                "stores_failed": failed,
                "passed": passed,
            },
        )
        if passed:
            request = request_mark_verified(
                actor=actor, request=request, method=check.email_confirmed_method
            )
    if passed:
        notify_subject(request=request, notice="verified")
    return check
