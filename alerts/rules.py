"""The anomaly rules: each reads audit events and says what looks wrong.

A rule gets the events written since the last run (in sequence order) and
returns findings; it reads older events itself when its window reaches back
before them. It writes nothing: `alerts.services.evaluation` turns findings
into alerts, merging a finding into the alert of the same burst. Thresholds
and windows are settings (settings.ALERT_RULES).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from alerts.choices import AlertRule, Severity, SubjectKind
from audit.models import AuditEvent
from dsr.clock import controller_zone

SAMPLE_SIZE = 50  # object ids kept on an alert, for the officer to open
DOWNLOAD_ACTIONS = (
    "access_package.downloaded",
    "access_package.letter_downloaded",
    "evidence_pack.downloaded",
    "evidence_pack.generated",  # counted only for an internal copy
)
SCOPE_FIRST_USED = "api_client.scope_first_used"
CODE_FAILED = "request.code_failed"
RECEIVED = "request.received"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Finding:
    """Something a rule found. `merge_within`: an alert of the same rule and
    subject whose window ended at most this long before this one began is
    the same burst going on (None: any earlier alert of that subject)."""

    rule: AlertRule
    severity: Severity
    subject_kind: SubjectKind
    subject: str
    window_start: datetime
    window_end: datetime
    count: int
    merge_within: timedelta | None
    details: dict[str, Any] = field(default_factory=dict)


def rule_settings(rule: AlertRule) -> dict[str, Any]:
    configured: dict[str, Any] = settings.ALERT_RULES.get(rule.value, {})
    return configured


def rule_enabled(rule: AlertRule) -> bool:
    return bool(rule_settings(rule).get("enabled", True))


def _actor_subject(actor: str) -> tuple[SubjectKind, str] | None:
    kind, _, ref = actor.partition(":")
    if kind == "user" and ref:
        return SubjectKind.USER, ref
    if kind == "client" and ref:
        return SubjectKind.CLIENT, ref
    return None


class BurstRule(ABC):
    """At least `threshold` events of one key within `window_minutes`."""

    rule: AlertRule
    severity: Severity
    subject_kind: SubjectKind
    actions: tuple[str, ...]

    @property
    def threshold(self) -> int:
        return int(rule_settings(self.rule)["threshold"])

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=int(rule_settings(self.rule)["window_minutes"]))

    @abstractmethod
    def key(self, event: AuditEvent) -> str | None:
        """The subject an event counts for, or None when it does not count."""

    def counted(self, event: AuditEvent) -> str:
        """What is counted once per window (by default every event)."""
        return str(event.sequence)

    def subject(self, key: str) -> tuple[SubjectKind, str]:
        return self.subject_kind, key

    def findings(self, events: Sequence[AuditEvent]) -> list[Finding]:
        new = [e for e in events if e.action in self.actions and self.key(e)]
        if not new:
            return []
        window = self.window
        keys = {self.key(e) for e in new}
        history = AuditEvent.objects.filter(
            action__in=self.actions,
            occurred_at__gt=min(e.occurred_at for e in new) - window,
            sequence__lte=max(e.sequence for e in new),
        ).order_by("sequence")
        by_key: dict[str, list[AuditEvent]] = defaultdict(list)
        for event in history.iterator(chunk_size=2000):
            key = self.key(event)
            if key is not None and key in keys:
                by_key[key].append(event)
        new_sequences = {e.sequence for e in new}
        found = []
        for key, keyed in by_key.items():
            finding = self._burst(key, keyed, new_sequences, window)
            if finding is not None:
                found.append(finding)
        return found

    def _burst(
        self,
        key: str,
        events: list[AuditEvent],
        new_sequences: set[int],
        window: timedelta,
    ) -> Finding | None:
        """The windows ending at a new event that reach the threshold, as one
        finding spanning them all."""
        start: datetime | None = None
        end: datetime | None = None
        peak = 0
        seen: set[str] = set()
        for last in events:
            if last.sequence not in new_sequences:
                continue
            inside = [
                e
                for e in events
                if e.sequence <= last.sequence
                and last.occurred_at - window < e.occurred_at <= last.occurred_at
            ]
            counted = {self.counted(e) for e in inside}
            if len(counted) < self.threshold:
                continue
            first = min(e.occurred_at for e in inside)
            start = first if start is None else min(start, first)
            end = last.occurred_at if end is None else max(end, last.occurred_at)
            peak = max(peak, len(counted))
            seen |= counted
        if start is None or end is None:
            return None
        kind, subject = self.subject(key)
        return Finding(
            rule=self.rule,
            severity=self.severity,
            subject_kind=kind,
            subject=subject,
            window_start=start,
            window_end=end,
            count=peak,
            merge_within=window,
            details=self.details(events, seen),
        )

    def details(self, events: list[AuditEvent], counted: set[str]) -> dict[str, Any]:
        return {"window_minutes": int(self.window.total_seconds() // 60)}


class BulkDownloadRule(BurstRule):
    rule = AlertRule.BULK_DOWNLOAD
    severity = Severity.HIGH
    subject_kind = SubjectKind.USER
    actions = DOWNLOAD_ACTIONS

    def key(self, event: AuditEvent) -> str | None:
        if event.action == "evidence_pack.generated" and not (
            isinstance(event.data, dict) and event.data.get("internal")
        ):
            return None
        return event.actor if _actor_subject(event.actor) else None

    def counted(self, event: AuditEvent) -> str:
        return f"{event.object_type}:{event.object_id}"

    def subject(self, key: str) -> tuple[SubjectKind, str]:
        subject = _actor_subject(key)
        assert subject is not None  # key() let only staff and clients through
        return subject

    def details(self, events: list[AuditEvent], counted: set[str]) -> dict[str, Any]:
        objects = sorted(counted)[:SAMPLE_SIZE]
        return {
            **super().details(events, counted),
            "objects": objects,
        }


class IntakeBurstRule(BurstRule):
    """Requests received on the watched channels, by one data key."""

    actions = (RECEIVED,)
    data_key: str

    def key(self, event: AuditEvent) -> str | None:
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("channel") not in settings.ALERT_INTAKE_CHANNELS:
            return None
        value = data.get(self.data_key)
        return str(value) if value else None

    def counted(self, event: AuditEvent) -> str:
        return event.object_id

    def details(self, events: list[AuditEvent], counted: set[str]) -> dict[str, Any]:
        return {
            **super().details(events, counted),
            "requests": sorted(counted)[:SAMPLE_SIZE],
            "channels": list(settings.ALERT_INTAKE_CHANNELS),
        }


class IpBurstRule(IntakeBurstRule):
    rule = AlertRule.IP_BURST
    severity = Severity.MEDIUM
    subject_kind = SubjectKind.IP_HASH
    data_key = "ip_hash"


class DomainBurstRule(IntakeBurstRule):
    rule = AlertRule.DOMAIN_BURST
    severity = Severity.MEDIUM
    subject_kind = SubjectKind.DOMAIN_HASH
    data_key = "email_domain_hash"


class FailedVerificationsRule(BurstRule):
    rule = AlertRule.FAILED_VERIFICATIONS
    severity = Severity.MEDIUM
    subject_kind = SubjectKind.REQUEST
    actions = (CODE_FAILED,)

    def key(self, event: AuditEvent) -> str | None:
        return event.object_id or None


def _clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def working_hours() -> tuple[time, time, frozenset[int]]:
    """The configured working hours (local) and days (0 = Monday)."""
    configured = rule_settings(AlertRule.OFF_HOURS)
    start_text, _, end_text = str(configured["hours"]).partition("-")
    days = frozenset(
        DAY_NAMES.index(day.strip().lower()[:3])
        for day in configured["days"]
        if day.strip().lower()[:3] in DAY_NAMES
    )
    return _clock(start_text), _clock(end_text), days


class OffHoursRule:
    """Anything a staff member did outside working hours: one alert per
    person and stretch of off-hours activity."""

    rule = AlertRule.OFF_HOURS
    severity = Severity.LOW
    # Actions this far apart are one evening's work, one alert.
    session_gap = timedelta(hours=4)

    def findings(self, events: Sequence[AuditEvent]) -> list[Finding]:
        start, end, days = working_hours()
        zone = controller_zone()
        outside: dict[str, list[AuditEvent]] = defaultdict(list)
        for event in events:
            subject = _actor_subject(event.actor)
            if subject is None or subject[0] != SubjectKind.USER:
                continue
            local = timezone.localtime(event.occurred_at, zone)
            if local.weekday() in days and start <= local.time() < end:
                continue
            outside[subject[1]].append(event)
        return [
            Finding(
                rule=self.rule,
                severity=self.severity,
                subject_kind=SubjectKind.USER,
                subject=user_id,
                window_start=min(e.occurred_at for e in found),
                window_end=max(e.occurred_at for e in found),
                count=len(found),
                merge_within=self.session_gap,
                details={"actions": sorted({e.action for e in found})[:SAMPLE_SIZE]},
            )
            for user_id, found in outside.items()
        ]


class NewScopeRule:
    """A client using a scope for the first time, after its baseline: the
    scopes it used in its first `learning_hours` of recorded use."""

    rule = AlertRule.NEW_SCOPE
    severity = Severity.MEDIUM

    def findings(self, events: Sequence[AuditEvent]) -> list[Finding]:
        learning = timedelta(
            hours=int(rule_settings(self.rule).get("learning_hours", 24))
        )
        found = []
        for event in events:
            if event.action != SCOPE_FIRST_USED or not event.actor.startswith(
                "client:"
            ):
                continue
            first = (
                AuditEvent.objects.filter(
                    action=SCOPE_FIRST_USED,
                    object_type=event.object_type,
                    object_id=event.object_id,
                )
                .order_by("sequence")
                .values_list("occurred_at", flat=True)
                .first()
            )
            if first is None or event.occurred_at - first < learning:
                continue
            scope = (
                str(event.data.get("scope", "")) if isinstance(event.data, dict) else ""
            )
            found.append(
                Finding(
                    rule=self.rule,
                    severity=self.severity,
                    subject_kind=SubjectKind.CLIENT,
                    subject=event.object_id,
                    window_start=event.occurred_at,
                    window_end=event.occurred_at,
                    count=1,
                    merge_within=timedelta(0),
                    details={"scope": scope, "baseline_since": first.isoformat()},
                )
            )
        return found


def event_rules() -> Iterable[BurstRule | OffHoursRule | NewScopeRule]:
    """The enabled rules that read audit events (the chain check is apart)."""
    rules: list[BurstRule | OffHoursRule | NewScopeRule] = [
        BulkDownloadRule(),
        IpBurstRule(),
        DomainBurstRule(),
        FailedVerificationsRule(),
        OffHoursRule(),
        NewScopeRule(),
    ]
    return [rule for rule in rules if rule_enabled(rule.rule)]
