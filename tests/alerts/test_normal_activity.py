"""A working day of ordinary activity raises no alert of any rule; the beat
tasks and the command run the same services."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from alerts.models import Alert, MonitorState
from alerts.tasks import alerts_evaluate_task
from dsr.links import status_token
from dsr.models import Request
from tests.portal.conftest import form_data, last_code

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


def test_an_ordinary_day_raises_nothing(
    officer: User,
    agent: User,
    make_api_client: Callable[..., Any],
    make_request: Callable[..., Request],
) -> None:
    # given customers filing and verifying requests, one with a typo
    for number in range(3):
        browser = Client(REMOTE_ADDR=f"198.51.100.{number + 10}")
        browser.post(reverse("portal:new"), form_data(email=f"c{number}@shop.example"))
        request = Request.objects.latest("pk")
        code = last_code()
        url = reverse("portal:verify", args=[status_token(str(request.public_id))])
        if number == 0:
            typo = "000000" if code != "000000" else "111111"
            browser.post(url, {"action": "verify", "code": typo})
        assert browser.post(url, {"action": "verify", "code": code}).status_code == 302
    # and staff signing in during the day, an officer taking two packs
    for user in (officer, agent):
        response = Client().post(
            reverse("dashboard:login"),
            {"username": user.username, "password": PASSWORD},
        )
        assert response.status_code == 302
    staff = Client()
    staff.force_login(officer)
    for request in Request.objects.all()[:2]:
        url = reverse("dashboard:request_evidence_pdf", args=[request.public_id])
        assert staff.get(url).status_code == 200
    # and an integration reading and filing through the API
    _client, http = make_api_client("requests:read", "requests:write")
    assert http.get("/api/v1/requests/").status_code == 200
    response = http.post(
        "/api/v1/requests/",
        {"kind": "erasure", "regime": "gdpr", "identity": {"email": "x@crm.example"}},
        format="json",
    )
    assert response.status_code == 201
    # when beat runs the rules
    raised = alerts_evaluate_task()
    # then
    assert raised == 0
    assert list(Alert.objects.values_list("rule", flat=True)) == []
    assert MonitorState.objects.get().last_sequence > 0


def test_the_command_runs_the_rules_and_the_chain_check() -> None:
    out = StringIO()
    call_command("evaluate_alerts", "--chain", stdout=out)
    assert "0 alerts raised" in out.getvalue()
    assert "audit chain OK" in out.getvalue()
