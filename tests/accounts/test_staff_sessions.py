"""Failed-login lockout (django-axes), idle timeout, log out everywhere, and
the API and portal left alone by both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.security import login_name_digest
from audit.models import AuditEvent

PASSWORD = "pw-for-tests-123"


def sign_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        reverse("dashboard:login"), {"username": username, "password": password}
    )


def test_lockout_after_the_failure_limit_even_with_the_right_password(
    client: Client, officer: User, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 3

    # given two failures: still the sign-in page
    for _ in range(2):
        assert sign_in(client, officer.username, "wrong").status_code == 200
    # when the third fails, the account name is locked
    third = sign_in(client, officer.username, "wrong")
    assert third.status_code == 429
    assert b"Too many failed sign-ins" in third.content

    # then the right password does not get in either
    after = sign_in(client, officer.username)
    assert after.status_code == 429
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="staff.login_failed")
    assert failed.count() == 4
    assert all(event.object_id == str(officer.pk) for event in failed)
    lockouts = AuditEvent.objects.filter(action="staff.lockout")
    assert lockouts.count() == 2
    assert lockouts.first().data == {"user": officer.pk, "failure_limit": 3}  # type: ignore[union-attr]
    assert not AuditEvent.objects.filter(action="staff.login").exists()


def test_lockout_ends_after_the_cool_off(
    client: Client, officer: User, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        sign_in(client, officer.username, "wrong")
    assert sign_in(client, officer.username).status_code == 429

    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert sign_in(client, officer.username).status_code == 302
    assert AuditEvent.objects.filter(action="staff.login").exists()


def test_a_failed_sign_in_for_no_account_keeps_no_name(client: Client, db: Any) -> None:
    typed = "Someone.Else@example.com"
    sign_in(client, typed, "guess")

    event = AuditEvent.objects.get(action="staff.login_failed")
    assert event.object_id == ""
    assert event.data == {
        "username_digest": login_name_digest(typed),
        "locked_out": False,
    }
    assert "example.com" not in str(event.data)
    attempt = AccessAttempt.objects.get()
    assert "example.com" not in attempt.username
    assert attempt.username == login_name_digest(typed)


def test_logout_is_audited(client: Client, officer: User) -> None:
    sign_in(client, officer.username)
    client.post(reverse("dashboard:logout"))
    assert AuditEvent.objects.filter(
        action="staff.logout", actor=f"user:{officer.pk}"
    ).exists()
    assert client.get(reverse("dashboard:queue")).status_code == 302


def test_idle_session_ends_and_activity_keeps_it_alive(
    client: Client, officer: User, settings: Any
) -> None:
    idle = timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES)
    queue = reverse("dashboard:queue")
    sign_in(client, officer.username)
    start = timezone.now()

    # activity within the idle limit renews the session
    with time_machine.travel(start + idle * 0.7, tick=False):
        assert client.get(queue).status_code == 200
    with time_machine.travel(start + idle * 1.4, tick=False):
        assert client.get(queue).status_code == 200
    # and idling longer than the limit ends it
    with time_machine.travel(start + idle * 1.4 + idle + timedelta(seconds=5)):
        response = client.get(queue)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_logout_everywhere_ends_every_session(client: Client, officer: User) -> None:
    queue = reverse("dashboard:queue")
    laptop, phone = Client(), Client()
    sign_in(laptop, officer.username)
    sign_in(phone, officer.username)
    assert phone.get(queue).status_code == 200

    # a request without the confirmation changes nothing
    laptop.post(reverse("dashboard:logout_everywhere"), {})
    assert phone.get(queue).status_code == 200

    response = laptop.post(reverse("dashboard:logout_everywhere"), {"confirm": "on"})
    assert response["Location"] == reverse("dashboard:login")
    assert phone.get(queue).status_code == 302
    assert laptop.get(queue).status_code == 302
    assert AuditEvent.objects.filter(
        action="staff.logout_everywhere", object_id=str(officer.pk)
    ).exists()

    # signing in again afterwards works
    sign_in(phone, officer.username)
    assert phone.get(queue).status_code == 200


def test_api_bearer_auth_is_untouched_by_lockout_and_the_second_factor(
    make_api_client: Callable[..., Any], officer: User, settings: Any
) -> None:
    settings.STAFF_MFA_REQUIRED = True
    settings.AXES_FAILURE_LIMIT = 2
    _, api = make_api_client("requests:read")
    stranger = Client(HTTP_AUTHORIZATION="Bearer pd_not-a-real-token")

    for _ in range(5):
        assert stranger.get("/api/v1/requests/").status_code == 401
    assert api.get("/api/v1/requests/").status_code == 200
    assert not AccessAttempt.objects.exists()

    # a locked-out staff name does not lock the API or the portal either
    for _ in range(2):
        sign_in(Client(), officer.username, "wrong")
    assert api.get("/api/v1/requests/").status_code == 200
    assert Client().get(reverse("portal:home")).status_code == 200
