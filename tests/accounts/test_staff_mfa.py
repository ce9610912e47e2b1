"""Staff TOTP: enrolment, the sign-in's second step, recovery codes, the gate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import actor_for_user
from accounts.mfa import totp_enrol_confirm, totp_enrolment_device
from audit.models import AuditEvent

PASSWORD = "pw-for-tests-123"


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows now for this device's key."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = int(code_for(device))
    return f"{(right + 500_000) % 1_000_000:06d}"


@pytest.fixture
def mfa_on(settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = True
    # A failed code throttles the device (doubling delays); tests that try a
    # wrong code and then the right one at once measure the codes, not that.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def sign_in(client: Client, user: User) -> Any:
    return client.post(
        reverse("dashboard:login"), {"username": user.username, "password": PASSWORD}
    )


def verified_client(user: User) -> Client:
    """A browser signed in as `user` with their app already verified."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    return verified_client(officer)


@pytest.fixture
def agent_client(agent: User) -> Client:
    return verified_client(agent)


def enrolled(user: User) -> list[str]:
    """Give `user` a confirmed app the way the page does; its recovery codes."""
    device = totp_enrolment_device(user=user)
    enrolment = totp_enrol_confirm(user=user, token=code_for(device))
    assert enrolment is not None
    return enrolment.recovery_codes


def test_officer_enrols_totp_and_signs_in_with_it(
    client: Client, officer: User, mfa_on: None
) -> None:
    # given an officer who must use a second factor and has none
    assert sign_in(client, officer).status_code == 302
    queue = reverse("dashboard:queue")

    # when they open the dashboard, they are sent to enrol before anything else
    response = client.get(queue)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:mfa_enrol"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert page.context["manual_key"].replace(" ", "")  # typed-in fallback

    # a wrong code is refused and audited
    refused = client.post(
        reverse("dashboard:mfa_enrol"), {"code": wrong_code_for(device)}
    )
    assert refused.status_code == 400
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert AuditEvent.objects.filter(
        action="staff.mfa_failed", object_id=str(officer.pk), data__step="enrol"
    ).exists()

    # the right one turns it on and shows ten recovery codes, once
    done = client.post(
        reverse("dashboard:mfa_enrol"), {"code": code_for(device), "next": queue}
    )
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=officer).values_list("token", flat=True)
    )
    assert AuditEvent.objects.filter(action="staff.mfa_enrolled").exists()
    assert client.get(queue).status_code == 200

    # then: a new sign-in asks for a code, and takes the app's next one
    client.post(reverse("dashboard:logout"))
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        sign_in(client, officer)
        gated = client.get(queue)
        assert gated["Location"].startswith(reverse("dashboard:mfa_verify"))
        bad = client.post(
            reverse("dashboard:mfa_verify"),
            {"code": wrong_code_for(device), "next": queue},
        )
        assert bad.status_code == 400
        assert client.get(queue).status_code == 302
        good = client.post(
            reverse("dashboard:mfa_verify"),
            {"code": code_for(TOTPDevice.objects.get(pk=device.pk)), "next": queue},
        )
        assert good.status_code == 302
        assert good["Location"] == queue
        assert client.get(queue).status_code == 200
    actions = list(
        AuditEvent.objects.filter(action__startswith="staff.").values_list(
            "action", flat=True
        )
    )
    assert actions[-3:] == ["staff.login", "staff.mfa_failed", "staff.mfa_verified"]
    login = AuditEvent.objects.filter(action="staff.login").last()
    assert login is not None
    assert login.data == {"second_factor": "pending"}


def test_a_totp_code_works_once(client: Client, officer: User, mfa_on: None) -> None:
    enrolled(officer)
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        code = code_for(device)
        sign_in(client, officer)
        assert (
            client.post(reverse("dashboard:mfa_verify"), {"code": code}).status_code
            == 302
        )
        other = Client()
        sign_in(other, officer)
        replay = other.post(reverse("dashboard:mfa_verify"), {"code": code})
    assert replay.status_code == 400


def test_recovery_code_signs_in_once_only(
    client: Client, officer: User, mfa_on: None
) -> None:
    codes = enrolled(officer)
    queue = reverse("dashboard:queue")

    sign_in(client, officer)
    used = client.post(reverse("dashboard:mfa_verify"), {"code": codes[0].upper()})
    assert used.status_code == 302
    assert client.get(queue).status_code == 200
    event = AuditEvent.objects.get(action="staff.mfa_recovery_code_used")
    assert event.data == {"recovery_codes_left": 9}
    assert codes[0] not in str(event.data)

    client.post(reverse("dashboard:logout"))
    sign_in(client, officer)
    again = client.post(reverse("dashboard:mfa_verify"), {"code": codes[0]})
    assert again.status_code == 400
    assert client.get(queue).status_code == 302
    assert StaticToken.objects.filter(device__user=officer).count() == 9


def test_without_the_requirement_officers_sign_in_with_a_password(
    client: Client, officer: User, settings: Any
) -> None:
    settings.STAFF_MFA_REQUIRED = False
    sign_in(client, officer)
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_roles_outside_the_requirement_are_not_sent_to_enrol(
    client: Client, agent: User, mfa_on: None
) -> None:
    sign_in(client, agent)
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_an_enrolled_agent_is_asked_for_the_code_even_when_not_required(
    client: Client, agent: User, settings: Any
) -> None:
    settings.STAFF_MFA_REQUIRED = False
    enrolled(agent)
    sign_in(client, agent)
    response = client.get(reverse("dashboard:queue"))
    assert response["Location"].startswith(reverse("dashboard:mfa_verify"))


def test_the_gate_covers_django_admin_and_admin_login_is_the_dashboards(
    client: Client, officer: User, mfa_on: None
) -> None:
    sign_in(client, officer)
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("dashboard:mfa_enrol"))
    login = client.get("/admin/login/?next=/admin/")
    assert login["Location"] == f"{reverse('dashboard:login')}?next=/admin/"


def test_admin_resets_a_lost_second_factor(
    officer_client: Client, agent: User, mfa_on: None, settings: Any
) -> None:
    settings.STAFF_MFA_REQUIRED = False  # the officer's own session needs none
    enrolled(agent)
    url = reverse("dashboard:staff_mfa_reset", args=[agent.pk])

    refused = officer_client.post(url, {})
    assert refused.status_code == 302
    assert TOTPDevice.objects.filter(user=agent).exists()

    officer_client.post(url, {"confirm": "on"})
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert not StaticToken.objects.filter(device__user=agent).exists()
    assert AuditEvent.objects.filter(
        action="staff.mfa_reset", object_id=str(agent.pk)
    ).exists()


def test_an_agent_may_not_reset_anyone(
    agent_client: Client, officer: User, settings: Any
) -> None:
    enrolled(officer)
    response = agent_client.post(
        reverse("dashboard:staff_mfa_reset", args=[officer.pk]), {"confirm": "on"}
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=officer, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="staff.mfa_reset").exists()


def test_recovery_codes_can_be_renewed_and_old_ones_stop_working(
    officer: User,
) -> None:
    old = enrolled(officer)
    officer_client = verified_client(officer)
    response = officer_client.post(reverse("dashboard:recovery_codes_new"))
    new = response.context["codes"]
    assert len(new) == 10
    stored = set(
        StaticToken.objects.filter(device__user=officer).values_list("token", flat=True)
    )
    assert stored == set(new)
    assert not stored & set(old)
    assert (
        actor_for_user(officer).ref
        == AuditEvent.objects.get(action="staff.mfa_recovery_codes_issued").actor
    )
