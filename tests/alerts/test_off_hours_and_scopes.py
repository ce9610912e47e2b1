"""Staff activity outside working hours, and API clients using new scopes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertRule, SubjectKind
from audit.models import AuditEvent
from tests.alerts.conftest import LONDON, alerts_of

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


def _log_in(user: User) -> None:
    response = Client().post(
        reverse("dashboard:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 11, 23, 15, tzinfo=LONDON),  # a Wednesday night
        datetime(2026, 3, 12, 6, 30, tzinfo=LONDON),  # before 07:00
        datetime(2026, 3, 14, 11, 0, tzinfo=LONDON),  # a Saturday
    ],
)
def test_a_login_outside_working_hours_raises_an_alert(
    officer: User, evaluate: Callable[[], Any], time_machine: Any, moment: datetime
) -> None:
    time_machine.move_to(moment, tick=False)
    _log_in(officer)
    evaluate()
    [alert] = alerts_of(AlertRule.OFF_HOURS)
    assert (alert.subject_kind, alert.subject) == (SubjectKind.USER, str(officer.pk))
    assert alert.details["actions"] == ["staff.login"]


def test_working_hours_raise_nothing_and_an_evening_is_one_alert(
    officer: User, evaluate: Callable[[], Any], time_machine: Any
) -> None:
    # given a login at 11:00 and at 19:59 on a Wednesday
    _log_in(officer)
    time_machine.move_to(datetime(2026, 3, 11, 19, 59, tzinfo=LONDON), tick=False)
    _log_in(officer)
    evaluate()
    assert alerts_of(AlertRule.OFF_HOURS) == []
    # when the officer works on at 21:00 and 22:30 (two runs of the rules)
    time_machine.move_to(datetime(2026, 3, 11, 21, 0, tzinfo=LONDON), tick=False)
    _log_in(officer)
    evaluate()
    time_machine.move_to(datetime(2026, 3, 11, 22, 30, tzinfo=LONDON), tick=False)
    _log_in(officer)
    evaluate()
    # then one alert covers the evening
    [alert] = alerts_of(AlertRule.OFF_HOURS)
    assert alert.window_end - alert.window_start == timedelta(minutes=90)


def test_a_client_using_a_scope_after_its_baseline_raises_an_alert(
    make_api_client: Callable[..., Any],
    evaluate: Callable[[], Any],
    time_machine: Any,
) -> None:
    # given a client that has read requests for two days
    client, http = make_api_client("requests:read", "requests:write")
    assert http.get("/api/v1/requests/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=2), tick=False)
    assert http.get("/api/v1/requests/").status_code == 200
    evaluate()
    assert alerts_of(AlertRule.NEW_SCOPE) == []
    # when it creates a request, a scope it never used
    response = http.post(
        "/api/v1/requests/",
        {"kind": "access", "regime": "gdpr", "identity": {"email": "a@b.example"}},
        format="json",
    )
    assert response.status_code == 201
    response = http.post(
        "/api/v1/requests/",
        {"kind": "access", "regime": "gdpr", "identity": {"email": "c@b.example"}},
        format="json",
    )
    evaluate()
    # then
    [alert] = alerts_of(AlertRule.NEW_SCOPE)
    assert (alert.subject_kind, alert.subject) == (
        SubjectKind.CLIENT,
        str(client.public_id),
    )
    assert alert.details["scope"] == "requests:write"
    firsts = AuditEvent.objects.filter(action="api_client.scope_first_used")
    assert sorted(firsts.values_list("data__scope", flat=True)) == [
        "requests:read",
        "requests:write",
    ]
    client.refresh_from_db()
    assert client.scopes_used == ["requests:read", "requests:write"]


def test_scopes_first_used_within_the_learning_period_raise_nothing(
    make_api_client: Callable[..., Any],
    evaluate: Callable[[], Any],
    time_machine: Any,
) -> None:
    _client, http = make_api_client("requests:read", "requests:write")
    assert http.get("/api/v1/requests/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(hours=3), tick=False)
    response = http.post(
        "/api/v1/requests/",
        {"kind": "access", "regime": "gdpr", "identity": {"email": "a@b.example"}},
        format="json",
    )
    assert response.status_code == 201
    evaluate()
    assert alerts_of(AlertRule.NEW_SCOPE) == []


def test_a_refused_scope_is_not_noted_as_used(
    make_api_client: Callable[..., Any],
) -> None:
    client, http = make_api_client("requests:read")
    response = http.post(
        "/api/v1/requests/",
        {"kind": "access", "regime": "gdpr", "identity": {"email": "a@b.example"}},
        format="json",
    )
    assert response.status_code == 403
    client.refresh_from_db()
    assert client.scopes_used == []
    assert not AuditEvent.objects.filter(action="api_client.scope_first_used").exists()
