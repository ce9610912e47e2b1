"""Sign-in, sign-out and who gets into the dashboard at all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent

PASSWORD = "pw-for-tests-123"


def test_login_page_renders(client: Client, db: None) -> None:
    response = client.get(reverse("dashboard:login"))

    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert b"Privacy Desk" in response.content


def test_login_records_staff_login_audit_event(client: Client, officer: User) -> None:
    # given
    assert not AuditEvent.objects.filter(action="staff.login").exists()

    # when
    response = client.post(
        reverse("dashboard:login"), {"username": officer.username, "password": PASSWORD}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:queue")
    event = AuditEvent.objects.get(action="staff.login")
    assert event.actor == f"user:{officer.pk}"


def test_failed_login_records_a_failure_not_a_login_and_says_so(
    client: Client, officer: User
) -> None:
    response = client.post(
        reverse("dashboard:login"), {"username": officer.username, "password": "wrong"}
    )

    assert response.status_code == 200
    assert b"didn\xe2\x80\x99t match" in response.content
    assert not AuditEvent.objects.filter(action="staff.login").exists()
    failure = AuditEvent.objects.get(action="staff.login_failed")
    assert failure.data == {"user": officer.pk, "locked_out": False}
    assert "wrong" not in str(failure.data)
    assert "_auth_user_id" not in client.session


def test_login_without_a_role_is_refused_with_403(
    client: Client, no_role_user: User
) -> None:
    response = client.post(
        reverse("dashboard:login"),
        {"username": no_role_user.username, "password": PASSWORD},
    )

    assert response.status_code == 403
    assert b"no staff role" in response.content
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="staff.login").exists()


@pytest.mark.parametrize(
    "url_name", ["queue", "request_new", "audit_log", "api_clients"]
)
def test_signed_in_user_without_role_gets_403(
    client: Client, no_role_user: User, url_name: str
) -> None:
    client.force_login(no_role_user)

    response = client.get(reverse(f"dashboard:{url_name}"))

    assert response.status_code == 403
    assert b"no staff role" in response.content


@pytest.mark.parametrize(
    "url_name", ["queue", "request_new", "audit_log", "api_clients"]
)
def test_anonymous_user_is_redirected_to_login(
    client: Client, db: None, url_name: str
) -> None:
    url = reverse(f"dashboard:{url_name}")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboard:login')}?next={url}"


def test_anonymous_request_page_and_action_redirect_to_login(
    client: Client, make_request
) -> None:
    dsr = make_request()
    detail = reverse("dashboard:request_detail", args=[dsr.public_id])
    action = reverse("dashboard:request_action", args=[dsr.public_id, "cancel"])

    assert client.get(detail)["Location"].startswith(reverse("dashboard:login"))
    response = client.post(action, {"cancel-confirm": "on"})

    assert response.status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == "received"


def test_logout_is_a_post_and_ends_the_session(officer_client: Client) -> None:
    response = officer_client.post(reverse("dashboard:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:login")
    assert officer_client.get(reverse("dashboard:queue")).status_code == 302


def test_header_shows_only_the_nav_items_the_role_may_use(
    agent_client: Client, auditor_client: Client, officer_client: Client
) -> None:
    agent_page = agent_client.get(reverse("dashboard:queue")).content.decode()
    auditor_page = auditor_client.get(reverse("dashboard:queue")).content.decode()
    officer_page = officer_client.get(reverse("dashboard:queue")).content.decode()

    assert "New request" in agent_page
    assert "Audit log" not in agent_page
    assert "API clients" not in agent_page
    assert "Support agent" in agent_page
    assert "Audit log" in auditor_page
    assert "New request" not in auditor_page
    assert "API clients" in officer_page
    assert "sam.agent" in agent_page
