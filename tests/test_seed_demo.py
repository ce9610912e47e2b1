"""seed_demo: deterministic, realistic, idempotent, never on production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.actors import staff_role
from accounts.choices import Role
from audit.models import AuditEvent
from connectors.models import Connector
from dsr.choices import Regime, RequestKind, RequestStatus
from dsr.clock import local_today
from dsr.demo import DEMO_PASSWORD, DEMO_STAFF, SCENARIOS, demo_request_specs
from dsr.models import Request
from subjects.models import DataSubject, SubjectIdentifier

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "subjects": DataSubject.objects.count(),
        "identifiers": SubjectIdentifier.objects.count(),
        "requests": Request.objects.count(),
        "request_history": Request.history.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_specs_are_deterministic_and_made_up() -> None:
    first, second = demo_request_specs(), demo_request_specs()

    assert first == second
    emails = [spec.email for spec in first]
    assert len(set(emails)) == len(SCENARIOS) == 12
    assert all(email.endswith(("@example.com", "@example.org")) for email in emails)


def test_seeding_twice_changes_nothing() -> None:
    # given a first seed
    first_output = _seed()
    after_first = _counts()

    # when seeding again
    second_output = _seed()

    # then
    assert _counts() == after_first
    assert after_first["requests"] == len(SCENARIOS)
    assert "created 12" in first_output
    assert "created 0, 12 existed already" in second_output
    # and the demo stores' connectors, wired by the command, are made once
    assert "Connector helpdesk: created" in first_output
    assert "Connector chat-transcripts: created" in first_output
    assert "Connector helpdesk: exists already" in second_output
    assert (
        Connector.objects.filter(name__in=["helpdesk", "chat-transcripts"]).count() == 2
    )


def test_demo_requests_cover_kinds_regimes_and_states() -> None:
    _seed()
    requests = list(Request.objects.all())
    today = local_today()

    assert {r.kind for r in requests} == set(RequestKind.values)
    assert {r.regime for r in requests} == set(Regime.values)
    statuses = {r.status for r in requests}
    assert {
        RequestStatus.RECEIVED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.COMPLETED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
    } <= statuses
    assert any(r.is_extended and r.extension_reason for r in requests)
    rejected = next(r for r in requests if r.status == RequestStatus.REJECTED)
    assert len(rejected.status_reason) > 20
    overdue = [r for r in requests if r.is_open and r.due_on < today]
    assert len(overdue) == 1
    assert all(r.created_by == "system:seed_demo" for r in requests)


def test_demo_staff_have_their_roles_and_the_demo_password() -> None:
    _seed()

    for staff in DEMO_STAFF:
        user = User.objects.get(username=staff.username)
        assert user.is_staff
        assert user.check_password(DEMO_PASSWORD)
        assert staff_role(user) == staff.role
    assert User.objects.get(username="admin").is_superuser
    assert staff_role(User.objects.get(username="officer")) == Role.PRIVACY_OFFICER


def test_an_existing_user_is_left_alone() -> None:
    # given someone already called "officer", with their own password
    User.objects.create_user("officer", password="their-own-password-123")

    # when
    output = _seed()

    # then
    officer = User.objects.get(username="officer")
    assert officer.check_password("their-own-password-123")
    assert not officer.is_staff
    assert "1 existed already" in output


def test_refuses_outside_embedded_mode() -> None:
    before = _counts()

    with (
        override_settings(EMBEDDED=False),
        pytest.raises(CommandError, match="refusing"),
    ):
        _seed()

    assert _counts() == before
