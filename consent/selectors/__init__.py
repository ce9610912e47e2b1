"""Reads of consent: a subject's consents, histories and rates; the fast
check lives in consent.selectors.check and is re-exported here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.choices import ConsentAction, ConsentStatus, PropagationStatus
from consent.models import (
    ConsentEvent,
    ConsentPropagation,
    ConsentState,
    ErasureAssessment,
    PolicyVersion,
    Purpose,
    PurposeConnector,
)
from consent.selectors.check import (  # noqa: F401 - the check, re-exported
    UNKNOWN_SUBJECT_SECONDS,
    PreparedCheck,
    consent_check,
    consent_check_prepare,
)
from consent.selectors.versions import (  # noqa: F401 - re-exported
    policy_versions_current,
    policy_versions_in_force,
)
from privacydesk.errors import ValidationFailed
from subjects.models import DataSubject

WITHDRAWAL_NOTICE = (
    "You can withdraw your consent at any time, as easily as you gave it. "
    "Withdrawing does not affect anything we did with your consent before."
)
# W3C Global Privacy Control: the date our support resource last changed.
GPC_SUPPORT_LAST_UPDATE = date(2026, 11, 28)


# --- purposes and policy versions ----------------------------------------------


def purpose_list() -> QuerySet[Purpose]:
    return Purpose.objects.order_by("slug")


def purpose_get(*, slug: str) -> Purpose | None:
    return Purpose.objects.filter(slug=slug).first()


def purpose_connector_links(*, purpose: Purpose) -> QuerySet[PurposeConnector]:
    """The stores that honour a purpose, and what a withdrawal does there."""
    return (
        PurposeConnector.objects.filter(purpose=purpose)
        .select_related("connector")
        .order_by("connector__name")
    )


def policy_version_current(*, purpose: Purpose) -> PolicyVersion | None:
    """The wording in force now: the latest effective version."""
    return policy_versions_in_force().filter(purpose=purpose).first()


def policy_version_renewal_floor(*, purpose: Purpose) -> PolicyVersion | None:
    """The latest material version: a grant on anything older needs renewal."""
    return policy_versions_in_force().filter(purpose=purpose, material=True).first()


def policy_versions(*, purpose: Purpose) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(purpose=purpose).order_by(
        "-effective_at", "-id"
    )


# --- one subject ----------------------------------------------------------------


@dataclass(frozen=True)
class PurposeConsent:
    """One purpose as a subject sees it on the consent page."""

    purpose: Purpose
    state: str  # ConsentStatus
    allowed: bool
    needs_renewal: bool
    current_version: PolicyVersion | None  # the wording to show now
    consented_version: PolicyVersion | None  # the wording of the last choice
    since: datetime | None
    withdrawal_notice: str = WITHDRAWAL_NOTICE

    @property
    def text(self) -> str:
        return self.current_version.text if self.current_version else ""


def consent_state_for_subject(*, subject: DataSubject) -> list[PurposeConsent]:
    """Every purpose with this subject's state, wording and renewal flag."""
    states = {
        state.purpose_id: state
        for state in ConsentState.objects.filter(subject=subject).select_related(
            "policy_version"
        )
    }
    result: list[PurposeConsent] = []
    for purpose in purpose_list():
        state = states.get(purpose.pk)
        current = policy_version_current(purpose=purpose)
        if state is None:
            result.append(
                PurposeConsent(
                    purpose=purpose,
                    state=ConsentStatus.DEFAULT,
                    allowed=purpose.default_granted,
                    needs_renewal=False,
                    current_version=current,
                    consented_version=None,
                    since=None,
                )
            )
            continue
        result.append(
            PurposeConsent(
                purpose=purpose,
                state=state.state,
                allowed=state.state == ConsentStatus.GRANTED,
                needs_renewal=state.state == ConsentStatus.NEEDS_RENEWAL,
                current_version=current,
                consented_version=state.policy_version,
                since=state.since,
            )
        )
    return result


def consent_subject_get(*, actor: Actor, public_id: Any) -> DataSubject:
    """A subject by public id, for staff and API clients that may view consent."""
    actor.require(Perm.CONSENT_VIEW)
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise DataSubject.DoesNotExist("no such subject") from exc
    return DataSubject.objects.get(public_id=key)


def consent_history(*, actor: Actor, subject: DataSubject) -> QuerySet[ConsentEvent]:
    """Every event of a subject, newest first (nothing is ever removed)."""
    actor.require(Perm.CONSENT_VIEW)
    return (
        ConsentEvent.objects.filter(subject=subject)
        .select_related("purpose", "policy_version")
        .order_by("-occurred_at", "-id")
    )


def consent_states(*, actor: Actor, subject: DataSubject) -> list[PurposeConsent]:
    actor.require(Perm.CONSENT_VIEW)
    return consent_state_for_subject(subject=subject)


# --- staff views ---------------------------------------------------------------


@dataclass(frozen=True)
class DailyRate:
    """Choices made for one purpose on one day (controller's time zone)."""

    day: date
    purpose: str
    grants: int
    withdrawals: int

    @property
    def rate(self) -> float | None:
        """Share of choices that were grants; None on a day without any."""
        total = self.grants + self.withdrawals
        return self.grants / total if total else None


def consent_rates(
    *, actor: Actor, days: int = 30, purpose: Purpose | None = None
) -> list[DailyRate]:
    """Grants and withdrawals per purpose per day, oldest first, for a chart.

    Days without events are left out; a chart fills them with zero.
    """
    actor.require(Perm.CONSENT_VIEW)
    if not 1 <= days <= 366:
        raise ValidationFailed("between 1 and 366", field="days")
    zone = ZoneInfo(settings.CONTROLLER_TIME_ZONE)
    start = timezone.now() - timedelta(days=days)
    events = ConsentEvent.objects.filter(occurred_at__gte=start)
    if purpose is not None:
        events = events.filter(purpose=purpose)
    rows = (
        events.annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("day", "purpose__slug")
        .annotate(
            grants=Count("id", filter=Q(action=ConsentAction.GRANT)),
            withdrawals=Count("id", filter=Q(action=ConsentAction.WITHDRAW)),
        )
        .order_by("day", "purpose__slug")
    )
    return [
        DailyRate(
            day=row["day"],
            purpose=row["purpose__slug"],
            grants=row["grants"],
            withdrawals=row["withdrawals"],
        )
        for row in rows
    ]


def erasure_assessments_open(*, actor: Actor) -> QuerySet[ErasureAssessment]:
    actor.require(Perm.CONSENT_VIEW)
    return ErasureAssessment.objects.filter(status="open").select_related(
        "subject", "purpose", "event"
    )


def propagation_list(
    *, actor: Actor, status: str | None = None
) -> QuerySet[ConsentPropagation]:
    actor.require(Perm.CONSENT_VIEW)
    qs = ConsentPropagation.objects.select_related("connector", "purpose", "event")
    if status:
        if status not in PropagationStatus.values:
            raise ValidationFailed("unknown status", field="status")
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def gpc_support_resource() -> dict[str, Any]:
    """The body of /.well-known/gpc.json (W3C GPC, section 3.2)."""
    return {"gpc": True, "lastUpdate": GPC_SUPPORT_LAST_UPDATE.isoformat()}
