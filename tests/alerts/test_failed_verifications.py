"""Repeated failed verifications: someone guessing a request's codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertRule, SubjectKind
from audit.models import AuditEvent
from dsr.links import status_token
from dsr.models import Request
from tests.alerts.conftest import alerts_of
from tests.portal.conftest import form_data, last_code

pytestmark = pytest.mark.django_db


def _filed(client: Client) -> tuple[Request, str]:
    response = client.post(reverse("portal:new"), form_data())
    assert response.status_code == 302
    request = Request.objects.latest("pk")
    return request, reverse(
        "portal:verify", args=[status_token(str(request.public_id))]
    )


def _guess(client: Client, url: str, code: str) -> None:
    response = client.post(url, {"action": "verify", "code": code})
    assert response.status_code == 200  # refused next to the field


def test_guessing_codes_raises_an_alert_for_the_request(
    client: Client, evaluate: Callable[[], Any], time_machine: Any
) -> None:
    # given a request whose codes are guessed: five wrong, then a new code
    # asked for and guessed three more times
    request, url = _filed(client)
    wrong = "000000" if last_code() != "000000" else "111111"
    for _ in range(5):
        _guess(client, url, wrong)
    _guess(client, url, wrong)  # the code is locked now: still a failure
    time_machine.move_to(timezone.now() + timedelta(minutes=2), tick=False)
    client.post(url, {"action": "resend", "code": ""})
    wrong = "000000" if last_code() != "000000" else "111111"
    for _ in range(2):
        _guess(client, url, wrong)
    # when
    evaluate()
    # then
    [alert] = alerts_of(AlertRule.FAILED_VERIFICATIONS)
    assert (alert.subject_kind, alert.subject) == (
        SubjectKind.REQUEST,
        str(request.public_id),
    )
    assert alert.count == 8
    reasons = list(
        AuditEvent.objects.filter(action="request.code_failed")
        .order_by("sequence")
        .values_list("data__reason", flat=True)
    )
    assert reasons == ["wrong"] * 5 + ["locked"] + ["wrong"] * 2


def test_a_few_typos_then_the_right_code_raise_nothing(
    client: Client, evaluate: Callable[[], Any]
) -> None:
    request, url = _filed(client)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        _guess(client, url, wrong)
    response = client.post(url, {"action": "verify", "code": code})
    assert response.status_code == 302
    evaluate()
    assert alerts_of(AlertRule.FAILED_VERIFICATIONS) == []
    assert AuditEvent.objects.filter(action="request.code_failed").count() == 3
