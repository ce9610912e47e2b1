"""Alerts: evaluating the rules, raising and acknowledging alerts.

Raising an alert and acknowledging one are audit events. Delivery (e-mail to
the officers, the signed webhook) is queued after commit, one row per channel
(`alerts.delivery` sends).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from alerts.choices import AlertRule, DeliveryChannel, Severity, SubjectKind
from alerts.models import Alert, AlertDelivery, MonitorState
from alerts.rules import Finding, event_rules, rule_enabled
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_batch, audit_record
from privacydesk.errors import IllegalTransition, ValidationFailed

SYSTEM = actor_system("alerts")
RAISED = "alert.raised"
ACKNOWLEDGED = "alert.acknowledged"
EVALUATE_BATCH = 5000  # audit events read per run at most; the next run goes on
NOTE_MAX = 2000


@dataclass(frozen=True)
class Evaluation:
    """What one run of the rules did."""

    events_read: int
    raised: list[Alert]
    extended: list[Alert]
    last_sequence: int


def _state() -> MonitorState:
    """The one state row, locked for this run (concurrent runs queue)."""
    state = MonitorState.objects.select_for_update().order_by("pk").first()
    if state is None:
        state = MonitorState.objects.create()
    return state


def alerts_evaluate(*, batch: int = EVALUATE_BATCH) -> Evaluation:
    """Run every enabled rule over the audit events written since the last
    run, raise or extend alerts, and move the cursor: one transaction, so an
    event is read once and a burst raises one alert however many runs see it."""
    raised: list[Alert] = []
    extended: list[Alert] = []
    with transaction.atomic(), audit_batch():
        state = _state()
        events = list(
            AuditEvent.objects.filter(sequence__gt=state.last_sequence).order_by(
                "sequence"
            )[:batch]
        )
        for rule in event_rules() if events else []:
            for finding in rule.findings(events):
                alert, created = alert_raise(finding=finding)
                (raised if created else extended).append(alert)
        if events:
            state.last_sequence = events[-1].sequence
        state.evaluated_at = timezone.now()
        state.save()
    return Evaluation(len(events), raised, extended, state.last_sequence)


def _mergeable(finding: Finding) -> Alert | None:
    same = Alert.objects.select_for_update().filter(
        rule=finding.rule,
        subject_kind=finding.subject_kind,
        subject=finding.subject,
    )
    if finding.merge_within is not None:
        same = same.filter(window_end__gte=finding.window_start - finding.merge_within)
    return same.order_by("-window_end", "-pk").first()


def alert_raise(*, finding: Finding) -> tuple[Alert, bool]:
    """Raise an alert for a finding, or extend the alert of the same burst
    (its window grows, its count is the highest seen). True when new."""
    with transaction.atomic():
        alert = _mergeable(finding)
        if alert is not None:
            alert.window_start = min(alert.window_start, finding.window_start)
            alert.window_end = max(alert.window_end, finding.window_end)
            alert.count = max(alert.count, finding.count)
            alert.details = {**alert.details, **finding.details}
            alert.save(
                update_fields=[
                    "window_start",
                    "window_end",
                    "count",
                    "details",
                    "updated_at",
                ]
            )
            return alert, False
        alert = Alert.objects.create(
            rule=finding.rule,
            severity=finding.severity,
            subject_kind=finding.subject_kind,
            subject=finding.subject,
            window_start=finding.window_start,
            window_end=finding.window_end,
            count=finding.count,
            details=finding.details,
            raised_at=timezone.now(),
        )
        audit_record(
            actor=SYSTEM,
            action=RAISED,
            obj=alert,
            data={
                "rule": alert.rule,
                "severity": alert.severity,
                "subject_kind": alert.subject_kind,
                "subject": alert.subject,
                "count": alert.count,
                "window_start": alert.window_start,
                "window_end": alert.window_end,
            },
        )
        _deliveries_queue(alert)
    return alert, True


def _deliveries_queue(alert: Alert) -> None:
    channels = []
    if settings.PRIVACY_OFFICER_EMAILS:
        channels.append(DeliveryChannel.EMAIL)
    if settings.ALERT_WEBHOOK_URL:
        channels.append(DeliveryChannel.WEBHOOK)
    deliveries = [
        AlertDelivery.objects.create(alert=alert, channel=c) for c in channels
    ]
    if deliveries:
        # Local: alerts.tasks imports the services back (task <-> service pair).
        from alerts.tasks import alert_deliver_task

        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(
            lambda: [alert_deliver_task.delay(delivery_id) for delivery_id in ids]
        )


def audit_chain_check() -> Alert | None:
    """Verify the whole audit chain and note the result; a broken link raises
    a critical alert (one per first bad event, however often it is checked)."""
    report = audit_chain_verify()
    with transaction.atomic(), audit_batch():
        state = _state()
        state.chain_checked_at = timezone.now()
        state.chain_ok = report.ok
        state.chain_events = report.count
        state.chain_problem = report.problem[:300]
        state.save()
        if report.ok or not rule_enabled(AlertRule.CHAIN_BROKEN):
            return None
        now = timezone.now()
        alert, _ = alert_raise(
            finding=Finding(
                rule=AlertRule.CHAIN_BROKEN,
                severity=Severity.CRITICAL,
                subject_kind=SubjectKind.CHAIN,
                subject=str(report.first_bad_sequence),
                window_start=now,
                window_end=now,
                count=1,
                merge_within=None,
                details={
                    "first_bad_sequence": report.first_bad_sequence,
                    "problem": report.problem,
                    "verified_before": report.count,
                },
            )
        )
    return alert


def alert_acknowledge(*, actor: Actor, alert: Alert, note: str) -> Alert:
    """Mark an alert triaged, with the officer's note; once only. The chain
    records the note's SHA-256 (the note stays on the alert: it may name
    people, and the chain is never rewritten)."""
    actor.require(Perm.ALERTS_ACKNOWLEDGE)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            "say what you found and what was done (a note is required)", field="note"
        )
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"at most {NOTE_MAX} characters", field="note")
    now = timezone.now()
    with transaction.atomic():
        changed = Alert.objects.filter(
            Q(pk=alert.pk), Q(acknowledged_at__isnull=True)
        ).update(
            acknowledged_at=now,
            acknowledged_by_id=actor.user_id,
            acknowledged_by_ref=actor.ref,
            note=note,
            updated_at=now,
        )
        if changed != 1:
            raise IllegalTransition("this alert was acknowledged already")
        alert.refresh_from_db()
        audit_record(
            actor=actor,
            action=ACKNOWLEDGED,
            obj=alert,
            data={
                "rule": alert.rule,
                "note_sha256": hashlib.sha256(note.encode()).hexdigest(),
            },
        )
    return alert
