"""Retention in the dashboard, as a privacy officer would use it, and what
other roles may not do."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.demo.content import customer
from dsr.models import LegalHold
from retention.models import PurgeRun, RetentionPolicy
from retention.services.runs import purge_run_start
from tests.retention.conftest import (
    Helpdesk,
    days_until_cutoff,
    make_connector,
    make_policy,
)

pytestmark = pytest.mark.django_db
POLICIES = reverse("dashboard:retention_policies")
NEW = reverse("dashboard:retention_policy_new")
HOLDS = reverse("dashboard:retention_holds")
RUNS = reverse("dashboard:retention_runs")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _old_logs(store: Helpdesk, email: str, *, held: bool) -> list[tuple[Any, ...]]:
    op = "=" if held else "<>"
    return store.rows(
        f"SELECT id, transcript FROM ai_conversations WHERE {store.age()} "
        f"AND customer_email {op} ? ORDER BY id",
        [store.cutoff_param(), email],
    )


def test_an_officer_adds_a_policy_holds_a_customer_dry_runs_runs_and_sees_it(
    officer: User,
    sqlite_helpdesk: Helpdesk,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    store = sqlite_helpdesk
    connector = make_connector(store)
    client = _client(officer)
    held = next(
        n for n in range(1, 41) if _old_logs(store, customer(n).email, held=True)
    )
    held_email = customer(held).email
    held_before = _old_logs(store, held_email, held=True)
    others_before = _old_logs(store, held_email, held=False)

    # when the officer adds the policy
    page = client.get(POLICIES)
    created = client.post(
        NEW,
        {
            "name": "AI conversation logs: 30 days, redact PII",
            "connector": connector.pk,
            "table": "ai_conversations",
            "age_column": "created_at",
            "max_age_days": days_until_cutoff(),
            "action": "redact_pii",
            "columns": "transcript",
            "minute": "0",
            "hour": "3",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "batch_size": "5000",
            "enabled": "on",
            "reason": "storage limitation review",
        },
    )

    # then
    assert page.status_code == 200
    assert b"Privacy Desk requests (built-in)" in page.content
    assert b'href="/dashboard/retention/"' in page.content  # the nav entry
    assert created.status_code == 302
    policy = RetentionPolicy.objects.get(builtin=False)
    assert policy.schedule == "0 3 * * *"

    # when the officer holds one customer
    placed = client.post(
        HOLDS,
        {
            "scope": "subject",
            "subject_email": held_email,
            "reason": "the customer disputes a chargeback",
            "legal_basis": "GDPR 17(3)(e): establishment of legal claims",
        },
    )
    holds_page = client.get(HOLDS)

    # then
    assert placed.status_code == 302
    assert LegalHold.objects.get().subject is not None
    assert b"GDPR 17(3)(e)" in holds_page.content
    assert held_email.encode() not in holds_page.content

    # when the officer dry-runs, then runs the policy
    run_url = reverse("dashboard:retention_policy_run", args=[policy.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(run_url, {"dry_run": "on"})
    assert _old_logs(store, held_email, held=False) == others_before
    dry_run = PurgeRun.objects.get(dry_run=True)
    confirm_page = client.get(
        reverse("dashboard:retention_policy_confirm", args=[policy.public_id])
    )
    counted = dry_run.totals()["changed"]
    assert f"This will redact personal data in {counted:,} rows".encode() in (
        confirm_page.content
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            run_url, {"confirm_dry_run": str(dry_run.public_id), "confirm": "on"}
        )

    # then the held customer's logs are untouched and the others redacted
    dry, real = PurgeRun.objects.order_by("started_at", "pk")
    assert dry.dry_run
    assert not real.dry_run
    assert real.tables == dry.tables
    assert _old_logs(store, held_email, held=True) == held_before
    after = _old_logs(store, held_email, held=False)
    assert [key for key, _ in after] == [key for key, _ in others_before]
    assert all("@" not in text for _, text in after)
    assert real.tables["ai_conversations"]["skipped_held"] == len(held_before)

    # and the runs are on the dashboard, with their per-table counts
    runs_page = client.get(RUNS)
    detail = client.get(
        reverse("dashboard:retention_run_detail", args=[real.public_id])
    )
    listing = client.get(POLICIES)
    assert runs_page.status_code == 200
    assert str(real.public_id).encode() in runs_page.content
    assert detail.status_code == 200
    assert b"ai_conversations" in detail.content
    assert str(real.tables["ai_conversations"]["changed"]).encode() in detail.content
    assert b"GDPR 17(3)(e)" in detail.content
    assert b"Succeeded" in listing.content


def test_an_auditor_sees_retention_but_changes_nothing(
    auditor: User, sqlite_helpdesk: Helpdesk
) -> None:
    # given
    policy = make_policy(make_connector(sqlite_helpdesk))
    client = _client(auditor)

    # when
    listing = client.get(POLICIES)
    events = AuditEvent.objects.count()
    responses = [
        client.get(NEW),
        client.post(reverse("dashboard:retention_policy_run", args=[policy.public_id])),
        client.post(
            HOLDS,
            {
                "scope": "connector",
                "connector": policy.connector_id,
                "reason": "an attempt by the wrong role",
                "legal_basis": "none",
            },
        ),
        client.get(reverse("dashboard:retention_policy_edit", args=[policy.public_id])),
    ]

    # then
    assert listing.status_code == 200
    assert b"Run now" not in listing.content
    assert [r.status_code for r in responses] == [403] * 4
    assert not PurgeRun.objects.exists()
    assert not LegalHold.objects.exists()
    assert AuditEvent.objects.count() == events


def test_an_agent_has_no_retention_pages(agent: User) -> None:
    client = _client(agent)

    queue = client.get(reverse("dashboard:queue"))
    page = client.get(POLICIES)

    assert b"/dashboard/retention/" not in queue.content
    assert page.status_code == 403


def test_a_failed_run_puts_a_banner_on_every_page_until_a_run_succeeds(
    officer: User, sqlite_helpdesk: Helpdesk
) -> None:
    # given a policy whose last run failed
    policy = make_policy(make_connector(sqlite_helpdesk), table="ai_conversations")
    RetentionPolicy.objects.filter(pk=policy.pk).update(age_column="gone_column")
    policy.refresh_from_db()
    purge_run_start(actor=actor_system("tests"), policy=policy)
    client = _client(officer)

    # when
    queue = client.get(reverse("dashboard:queue"))

    # then
    assert b"failed its last run" in queue.content

    # when the policy is fixed and runs again
    RetentionPolicy.objects.filter(pk=policy.pk).update(age_column="created_at")
    policy.refresh_from_db()
    purge_run_start(actor=actor_system("tests"), policy=policy)

    # then
    assert b"failed its last run" not in client.get(reverse("dashboard:queue")).content


def test_the_policy_form_shows_the_services_errors_and_the_built_in_form_is_short(
    officer: User, sqlite_helpdesk: Helpdesk
) -> None:
    # given
    connector = make_connector(sqlite_helpdesk)
    client = _client(officer)
    client.get(POLICIES)  # the built-in policy exists once the page is seen
    builtin = RetentionPolicy.objects.get(builtin=True)

    # when
    refused = client.post(
        NEW,
        {
            "name": "Broken",
            "connector": connector.pk,
            "table": "invoices",
            "age_column": "created_at",
            "max_age_days": "30",
            "action": "delete",
            "minute": "0",
            "hour": "25",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "batch_size": "5000",
        },
    )
    edit = client.get(
        reverse("dashboard:retention_policy_edit", args=[builtin.public_id])
    )
    saved = client.post(
        reverse("dashboard:retention_policy_edit", args=[builtin.public_id]),
        {
            "minute": "45",
            "hour": "4",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "batch_size": "500",
            "enabled": "on",
            "reason": "quieter hour",
        },
    )

    # then
    assert refused.status_code == 400
    assert b"maps no table invoices" in refused.content
    assert not RetentionPolicy.objects.filter(name="Broken").exists()
    assert edit.status_code == 200
    assert b'name="table"' not in edit.content
    assert saved.status_code == 302
    builtin.refresh_from_db()
    assert builtin.schedule == "45 4 * * *"


def test_the_policy_forms_column_list_is_filled_in_and_shows_the_services_error(
    officer: User, sqlite_helpdesk: Helpdesk
) -> None:
    # given: the column list is the form's `columns` field, the service's `fields`
    connector = make_connector(sqlite_helpdesk)
    policy = make_policy(
        connector, table="ai_conversations", action="redact_pii", fields=["transcript"]
    )
    client = _client(officer)
    edit_url = reverse("dashboard:retention_policy_edit", args=[policy.public_id])

    # when
    edit = client.get(edit_url)
    refused = client.post(
        NEW,
        {
            "name": "Delete with columns",
            "connector": connector.pk,
            "table": "ai_conversations",
            "age_column": "created_at",
            "max_age_days": "30",
            "action": "delete",
            "columns": "transcript",
            "minute": "0",
            "hour": "3",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "batch_size": "5000",
        },
    )

    # then
    assert b'name="columns" value="transcript"' in edit.content
    assert refused.status_code == 400
    assert b'id="id_columns_error"' in refused.content
    assert not RetentionPolicy.objects.filter(name="Delete with columns").exists()
