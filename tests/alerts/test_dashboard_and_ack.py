"""The alerts page: empty state, open alerts first, the nav badge, and
acknowledging with a note (audited), refused without one or without the right."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertRule, Severity, SubjectKind
from alerts.models import Alert
from alerts.rules import Finding
from alerts.services import alert_raise
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/alerts/"


def _browser(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def raise_alert(db: Any) -> Callable[..., Alert]:
    def make(subject: str = "7", rule: AlertRule = AlertRule.BULK_DOWNLOAD) -> Alert:
        now = timezone.now()
        alert, created = alert_raise(
            finding=Finding(
                rule=rule,
                severity=Severity.HIGH,
                subject_kind=SubjectKind.USER,
                subject=subject,
                window_start=now - timedelta(minutes=3),
                window_end=now,
                count=6,
                merge_within=timedelta(minutes=15),
            )
        )
        assert created
        return alert

    return make


def _ack(browser: Client, alert: Alert, note: str) -> Any:
    return browser.post(
        reverse("dashboard:alert_acknowledge", args=[alert.public_id]), {"note": note}
    )


def test_no_alerts_shows_the_empty_state_and_no_badge(officer: User) -> None:
    response = _browser(officer).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "No alerts" in body
    assert "data-open-alerts" not in body


def test_open_alerts_come_first_and_the_nav_counts_them(
    officer: User, raise_alert: Callable[..., Alert]
) -> None:
    # given an acknowledged alert raised last and two open ones raised before
    first, second = raise_alert("1"), raise_alert("2")
    done = raise_alert("3")
    assert (
        _ack(_browser(officer), done, "checked: a scheduled export").status_code == 302
    )
    # when
    response = _browser(officer).get(PAGE)
    # then
    body = response.content.decode()
    assert 'data-open-alerts="2"' in body
    order = [row["alert"].pk for row in response.context["rows"]]
    assert order[2] == done.pk
    assert set(order[:2]) == {first.pk, second.pk}
    assert "checked: a scheduled export" in body
    # and every other dashboard page carries the badge too
    queue = _browser(officer).get(reverse("dashboard:queue")).content.decode()
    assert 'data-open-alerts="2"' in queue


def test_acknowledging_with_a_note_closes_it_and_is_audited(
    officer: User, raise_alert: Callable[..., Alert]
) -> None:
    alert = raise_alert()
    note = "Spoke to the user: quarterly audit sample, approved by the DPO."
    # when
    response = _ack(_browser(officer), alert, note)
    # then
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == officer
    assert alert.acknowledged_at is not None
    assert alert.note == note
    event = AuditEvent.objects.get(action="alert.acknowledged")
    assert event.actor == f"user:{officer.pk}"
    assert event.object_id == str(alert.public_id)
    assert event.data["note_sha256"] == hashlib.sha256(note.encode()).hexdigest()
    assert note not in str(event.data)
    # and a second acknowledgement is refused, changing nothing
    response = _ack(_browser(officer), alert, "again")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.note == note
    assert AuditEvent.objects.filter(action="alert.acknowledged").count() == 1


def test_an_empty_note_is_refused_next_to_the_field(
    officer: User, raise_alert: Callable[..., Alert]
) -> None:
    alert = raise_alert()
    response = _ack(_browser(officer), alert, "   ")
    assert response.status_code == 400
    assert response.context["form"].errors["note"]
    assert response.context["form_for"] == str(alert.public_id)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert not AuditEvent.objects.filter(action="alert.acknowledged").exists()


def test_an_auditor_sees_alerts_but_cannot_acknowledge(
    auditor: User, raise_alert: Callable[..., Alert]
) -> None:
    alert = raise_alert()
    page = _browser(auditor).get(PAGE)
    assert page.status_code == 200
    assert "Acknowledge" not in page.content.decode()
    response = _ack(_browser(auditor), alert, "looked at it")
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert not AuditEvent.objects.filter(action="alert.acknowledged").exists()


def test_a_support_agent_has_no_alerts_page(
    agent: User, raise_alert: Callable[..., Alert]
) -> None:
    alert = raise_alert()
    assert _browser(agent).get(PAGE).status_code == 403
    assert _ack(_browser(agent), alert, "x").status_code == 403
    queue = _browser(agent).get(reverse("dashboard:queue")).content.decode()
    assert "data-open-alerts" not in queue
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_unknown_alert_is_a_404(officer: User) -> None:
    response = _browser(officer).post(
        "/dashboard/alerts/00000000-0000-0000-0000-000000000000/acknowledge/",
        {"note": "x"},
    )
    assert response.status_code == 404
