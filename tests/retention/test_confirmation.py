"""A real purge is confirmed against a recent dry run of the same policy
version (issue 16), in the dashboard, the API and on the schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from retention.models import PurgeRun, RetentionPolicy
from retention.services.policies import retention_policy_update
from retention.services.runs import purge_run_scheduled
from retention.tasks import purge_run_task
from tests.retention.conftest import (
    NOW,
    Helpdesk,
    make_connector,
    make_policy,
)

pytestmark = pytest.mark.django_db
POLICIES = "/api/v1/retention/policies/"


def _tickets(store: Helpdesk) -> int:
    return int(store.value("SELECT count(*) FROM tickets"))


def _dry_run(api: Any, policy: RetentionPolicy, capture: Any) -> PurgeRun:
    with capture(execute=True):
        answer = api.post(
            f"{POLICIES}{policy.public_id}/run/", {"dry_run": True}, format="json"
        )
    assert answer.status_code == 202
    return PurgeRun.objects.filter(policy=policy, dry_run=True).latest("pk")


def _real(api: Any, policy: RetentionPolicy, capture: Any, **body: Any) -> Any:
    with capture(execute=True):
        return api.post(
            f"{POLICIES}{policy.public_id}/run/",
            {"dry_run": False, **body},
            format="json",
        )


@pytest.fixture
def api(make_api_client: Callable[..., Any]) -> Any:
    return make_api_client("retention:read", "retention:write")[1]


def test_a_real_run_is_refused_without_a_dry_run_and_nothing_is_deleted(
    sqlite_helpdesk: Helpdesk,
    api: Any,
    officer: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a new policy never dry-run
    policy = make_policy(make_connector(sqlite_helpdesk))
    tickets = _tickets(sqlite_helpdesk)
    client = Client()
    client.force_login(officer)
    run_url = reverse("dashboard:retention_policy_run", args=[policy.public_id])

    # when
    answer = _real(api, policy, django_capture_on_commit_callbacks, confirm=True)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(run_url, {"confirm": "on"})
    page = client.get(
        reverse("dashboard:retention_policy_confirm", args=[policy.public_id])
    )

    # then both doors refuse, naming the missing dry run, and nothing ran
    assert answer.status_code == 400
    assert "confirm_dry_run" in str(answer.json())
    assert posted.status_code == 302
    assert posted["Location"].endswith(
        f"/retention/policies/{policy.public_id}/confirm/"
    )
    assert b"Dry-run it first" in page.content
    assert not PurgeRun.objects.exists()
    assert _tickets(sqlite_helpdesk) == tickets
    assert api.get(f"{POLICIES}{policy.public_id}/").json()["confirmation"] is None


def test_a_dry_run_older_than_24_hours_does_not_count(
    sqlite_helpdesk: Helpdesk,
    api: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a dry run made 25 hours ago
    policy = make_policy(make_connector(sqlite_helpdesk))
    dry = _dry_run(api, policy, django_capture_on_commit_callbacks)
    tickets = _tickets(sqlite_helpdesk)
    time_machine.move_to(NOW + timedelta(hours=25), tick=False)

    # when
    answer = _real(
        api,
        policy,
        django_capture_on_commit_callbacks,
        confirm_dry_run=str(dry.public_id),
        confirm=True,
    )

    # then
    assert answer.status_code == 400
    assert "confirm_dry_run" in str(answer.json())
    assert not PurgeRun.objects.filter(dry_run=False).exists()
    assert _tickets(sqlite_helpdesk) == tickets


def test_an_edit_after_the_dry_run_makes_it_stale(
    sqlite_helpdesk: Helpdesk, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a dry run, then a change to the policy
    policy = make_policy(make_connector(sqlite_helpdesk))
    dry = _dry_run(api, policy, django_capture_on_commit_callbacks)
    assert api.get(f"{POLICIES}{policy.public_id}/").json()["confirmation"] is not None
    retention_policy_update(
        actor=actor_system("tests"), policy=policy, batch_size=50, reason="faster"
    )
    tickets = _tickets(sqlite_helpdesk)

    # when
    answer = _real(
        api,
        policy,
        django_capture_on_commit_callbacks,
        confirm_dry_run=str(dry.public_id),
        confirm=True,
    )

    # then
    assert answer.status_code == 400
    assert "confirm_dry_run" in str(answer.json())
    assert api.get(f"{POLICIES}{policy.public_id}/").json()["confirmation"] is None
    assert _tickets(sqlite_helpdesk) == tickets


def test_the_confirmation_must_be_ticked(
    sqlite_helpdesk: Helpdesk, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(make_connector(sqlite_helpdesk))
    dry = _dry_run(api, policy, django_capture_on_commit_callbacks)
    tickets = _tickets(sqlite_helpdesk)

    answer = _real(
        api,
        policy,
        django_capture_on_commit_callbacks,
        confirm_dry_run=str(dry.public_id),
    )

    assert answer.status_code == 400
    assert "confirm" in answer.json().get("errors", answer.json())
    assert not PurgeRun.objects.filter(dry_run=False).exists()
    assert _tickets(sqlite_helpdesk) == tickets


def test_a_confirmed_run_shows_the_dry_runs_counts_then_deletes_them(
    sqlite_helpdesk: Helpdesk,
    api: Any,
    officer: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a dry run by an officer in the dashboard
    policy = make_policy(make_connector(sqlite_helpdesk))
    client = Client()
    client.force_login(officer)
    run_url = reverse("dashboard:retention_policy_run", args=[policy.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(run_url, {"dry_run": "on"})
    dry = PurgeRun.objects.get(dry_run=True)
    counted = dry.totals()["changed"]
    assert counted > 0
    tickets = _tickets(sqlite_helpdesk)

    # when the officer opens "Run now", then confirms
    page = client.get(
        reverse("dashboard:retention_policy_confirm", args=[policy.public_id])
    )
    listed = api.get(f"{POLICIES}{policy.public_id}/").json()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(run_url, {"confirm_dry_run": str(dry.public_id), "confirm": "on"})

    # then the page named the dry run's counts per table, and who ran it
    text = page.content.decode()
    assert f"This will delete {counted:,} rows in helpdesk" in text
    for table, counts in dry.tables.items():
        assert f"{table}: {counts['changed']:,}" in text
    assert "by olivia.officer" in text
    assert listed["confirmation"]["rows"] == counted
    assert listed["confirmation"]["dry_run"] == str(dry.public_id)
    # and the real run changed what the dry run counted, citing it
    real = PurgeRun.objects.get(dry_run=False)
    assert real.status == "succeeded"
    assert real.confirmed_from == dry
    assert real.tables == dry.tables
    assert _tickets(sqlite_helpdesk) == tickets - dry.tables["tickets"]["changed"]
    confirmed = AuditEvent.objects.get(action="retention.real_run_confirmed")
    assert confirmed.data["rows"] == counted
    assert confirmed.actor == f"user:{officer.pk}"
    policy.refresh_from_db()
    assert policy.real_runs_confirmed_by == f"user:{officer.pk}"


def test_the_schedule_dry_runs_a_policy_until_a_real_run_is_confirmed(
    sqlite_helpdesk: Helpdesk, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a new policy
    policy = make_policy(make_connector(sqlite_helpdesk))
    tickets = _tickets(sqlite_helpdesk)

    # when beat runs it
    outcome = purge_run_task(policy.pk)

    # then it was a dry run; nothing deleted
    assert outcome == "dry-run-only:succeeded"
    scheduled = PurgeRun.objects.get()
    assert scheduled.dry_run
    assert _tickets(sqlite_helpdesk) == tickets

    # when staff confirm a real run against that (scheduled) dry run
    answer = _real(
        api,
        policy,
        django_capture_on_commit_callbacks,
        confirm_dry_run=str(scheduled.public_id),
        confirm=True,
    )
    assert answer.status_code == 202
    deleted = tickets - _tickets(sqlite_helpdesk)
    assert deleted == scheduled.tables["tickets"]["changed"]

    # then beat runs it for real from now on
    assert purge_run_task(policy.pk) == "succeeded"
    assert PurgeRun.objects.filter(dry_run=False).count() == 2

    # until its scope changes: dry-run only again
    policy.refresh_from_db()
    retention_policy_update(
        actor=actor_system("tests"), policy=policy, max_age_days=30, reason="shorter"
    )
    policy.refresh_from_db()
    assert policy.real_runs_confirmed_at is None
    assert purge_run_task(policy.pk) == "dry-run-only:succeeded"
    assert PurgeRun.objects.filter(dry_run=False).count() == 2


def test_a_queued_confirmed_run_is_dropped_if_the_policy_changed_meanwhile(
    sqlite_helpdesk: Helpdesk, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a dry run, and a policy changed after staff confirmed against it
    policy = make_policy(make_connector(sqlite_helpdesk))
    dry = _dry_run(api, policy, django_capture_on_commit_callbacks)
    retention_policy_update(actor=actor_system("tests"), policy=policy, batch_size=40)
    tickets = _tickets(sqlite_helpdesk)

    # when the worker gets the confirmed run
    outcome = purge_run_scheduled(
        policy_id=policy.pk, triggered_by="user:1", confirmed_from=dry.pk
    )

    # then
    assert outcome == "confirmation-stale"
    assert not PurgeRun.objects.filter(dry_run=False).exists()
    assert _tickets(sqlite_helpdesk) == tickets
    assert AuditEvent.objects.filter(action="retention.run_refused").exists()
