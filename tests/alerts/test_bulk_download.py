"""Bulk downloads: many requests' packages taken by one staff user or client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertRule, Severity, SubjectKind
from audit.models import AuditEvent
from dsr.models import Request
from tests.alerts.conftest import alerts_of

pytestmark = pytest.mark.django_db


def _download_evidence(client: Client, request: Request) -> None:
    url = reverse("dashboard:request_evidence_pdf", args=[request.public_id])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


@pytest.fixture
def officer_browser(officer: User) -> Client:
    browser = Client()
    browser.force_login(officer)
    return browser


def test_one_user_downloading_five_packages_raises_one_alert_at_the_default(
    officer: User,
    officer_browser: Client,
    make_request: Callable[..., Request],
    evaluate: Callable[[], Any],
) -> None:
    # given five requests, each downloaded once through the dashboard (the
    # README's demo path, with the default threshold of 5 in 15 minutes)
    requests = [make_request(identity={"email": f"p{i}@example.com"}) for i in range(5)]
    for request in requests:
        _download_evidence(officer_browser, request)
    # when
    evaluate()
    # then
    [alert] = alerts_of(AlertRule.BULK_DOWNLOAD)
    assert alert.severity == Severity.HIGH
    assert (alert.subject_kind, alert.subject) == (SubjectKind.USER, str(officer.pk))
    assert alert.count == 5
    assert sorted(alert.details["objects"]) == sorted(
        f"dsr.request:{r.public_id}" for r in requests
    )
    raised = AuditEvent.objects.get(action="alert.raised")
    assert raised.object_id == str(alert.public_id)
    assert raised.data["rule"] == "bulk_download"
    assert raised.data["count"] == 5


def test_normal_downloads_raise_nothing(
    officer_browser: Client,
    make_request: Callable[..., Request],
    evaluate: Callable[[], Any],
) -> None:
    # given four packages, and one of them taken again and again
    requests = [make_request(identity={"email": f"p{i}@example.com"}) for i in range(4)]
    for request in requests:
        _download_evidence(officer_browser, request)
    for _ in range(3):
        _download_evidence(officer_browser, requests[0])
    # when
    evaluation = evaluate()
    # then
    assert evaluation.events_read > 0
    assert alerts_of(AlertRule.BULK_DOWNLOAD) == []
    assert not AuditEvent.objects.filter(action="alert.raised").exists()


def test_downloads_spread_over_more_than_the_window_raise_nothing(
    officer_browser: Client,
    make_request: Callable[..., Request],
    evaluate: Callable[[], Any],
    rules: Callable[..., Any],
    time_machine: Any,
) -> None:
    requests = [make_request(identity={"email": f"p{i}@example.com"}) for i in range(3)]
    with rules(bulk_download={"threshold": 3, "window_minutes": 15}):
        for request in requests:
            _download_evidence(officer_browser, request)
            evaluate()
            time_machine.move_to(timezone.now() + timedelta(minutes=10), tick=False)
    assert alerts_of(AlertRule.BULK_DOWNLOAD) == []


def test_the_same_burst_raises_one_alert_across_runs(
    officer_browser: Client,
    make_request: Callable[..., Request],
    evaluate: Callable[[], Any],
    rules: Callable[..., Any],
    time_machine: Any,
) -> None:
    requests = [make_request(identity={"email": f"p{i}@example.com"}) for i in range(5)]
    with rules(bulk_download={"threshold": 3}):
        for request in requests[:3]:
            _download_evidence(officer_browser, request)
        first = evaluate()
        # when the burst goes on after the first run, and a run sees nothing new
        time_machine.move_to(timezone.now() + timedelta(minutes=5), tick=False)
        for request in requests[3:]:
            _download_evidence(officer_browser, request)
        second = evaluate()
        third = evaluate()
    # then one alert, grown
    assert len(first.raised) == 1
    assert second.raised == []
    assert len(second.extended) == 1
    assert third.events_read == 0
    assert third.raised == []
    assert third.extended == []
    [alert] = alerts_of(AlertRule.BULK_DOWNLOAD)
    assert alert.count == 5
    assert alert.window_end - alert.window_start == timedelta(minutes=5)
    assert AuditEvent.objects.filter(action="alert.raised").count() == 1


def test_an_api_client_downloading_packages_is_caught_too(
    make_api_client: Callable[..., Any],
    make_request: Callable[..., Request],
    evaluate: Callable[[], Any],
    rules: Callable[..., Any],
) -> None:
    client, http = make_api_client("requests:read")
    requests = [make_request(identity={"email": f"p{i}@example.com"}) for i in range(2)]
    for request in requests:
        response = http.get(f"/api/v1/requests/{request.public_id}/evidence.pdf")
        assert response.status_code == 200
    with rules(bulk_download={"threshold": 2}):
        evaluate()
    [alert] = alerts_of(AlertRule.BULK_DOWNLOAD)
    assert (alert.subject_kind, alert.subject) == (
        SubjectKind.CLIENT,
        str(client.public_id),
    )
