"""The retention API: policies, runs and holds, behind their scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audit.models import AuditEvent
from connectors.demo.content import customer
from dsr.models import LegalHold
from retention.models import PurgeRun, RetentionPolicy
from tests.retention.conftest import Helpdesk, days_until_cutoff, make_connector

pytestmark = pytest.mark.django_db
POLICIES = "/api/v1/retention/policies/"
RUNS = "/api/v1/retention/runs/"
HOLDS = "/api/v1/retention/holds/"


def _policy_body(connector_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "AI conversation logs: 30 days, redact PII",
        "connector": connector_id,
        "table": "ai_conversations",
        "age_column": "created_at",
        "max_age_days": days_until_cutoff(),
        "action": "redact_pii",
        "fields": ["transcript"],
        "schedule": "0 4 * * *",
        **extra,
    }


def test_a_policy_is_created_listed_and_dry_run_through_the_api(
    sqlite_helpdesk: Helpdesk,
    make_api_client: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    connector = make_connector(sqlite_helpdesk)
    _, api = make_api_client("retention:read", "retention:write")
    before = sqlite_helpdesk.everything()

    # when
    created = api.post(POLICIES, _policy_body(str(connector.public_id)), format="json")
    listed = api.get(POLICIES)

    # then
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["connector"] == {"id": str(connector.public_id), "name": "helpdesk"}
    assert body["category"] == "ai_conversation"
    assert body["schedule"] == "0 4 * * *"
    assert body["next_run_at"] is not None
    assert body["last_run"] is None
    names = [policy["name"] for policy in listed.json()["results"]]
    assert names == [
        "Privacy Desk requests (built-in)",
        "AI conversation logs: 30 days, redact PII",
    ]

    # when
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(
            f"{POLICIES}{body['id']}/run/", {"dry_run": True}, format="json"
        )

    # then the worker (eager here) ran it, and nothing changed in the store
    assert queued.status_code == 202
    assert queued.json() == {"policy": body["id"], "dry_run": True, "status": "queued"}
    run = PurgeRun.objects.get()
    assert run.dry_run
    assert run.status == "succeeded"
    assert sqlite_helpdesk.everything() == before
    runs = api.get(RUNS, {"policy": body["id"]}).json()["results"]
    assert [r["id"] for r in runs] == [str(run.public_id)]
    detail = api.get(f"{RUNS}{run.public_id}/").json()
    changed = detail["tables"]["ai_conversations"]["changed"]
    assert changed > 0
    assert detail["totals"]["changed"] == changed
    assert detail["policy"]["name"] == body["name"]
    assert api.get(f"{POLICIES}{body['id']}/").json()["last_run"]["id"] == str(
        run.public_id
    )


def test_a_hold_is_placed_by_identity_shown_by_pseudonym_and_released_once(
    make_api_client: Callable[..., Any],
) -> None:
    # given
    _, api = make_api_client("retention:read", "retention:write")
    email = customer(7).email

    # when
    placed = api.post(
        HOLDS,
        {
            "scope": "subject",
            "subject_identity": {"email": email},
            "reason": "customer is suing over order ORD-1",
            "legal_basis": "GDPR 17(3)(e)",
        },
        format="json",
    )

    # then
    assert placed.status_code == 201, placed.json()
    hold = placed.json()
    assert hold["subject"].startswith("SUBJ-")
    assert email not in str(hold)
    assert hold["active"] is True
    assert [h["id"] for h in api.get(HOLDS, {"active": "true"}).json()["results"]] == [
        hold["id"]
    ]

    # when
    released = api.post(
        f"{HOLDS}{hold['id']}/release/", {"note": "settled"}, format="json"
    )
    again = api.post(f"{HOLDS}{hold['id']}/release/", {}, format="json")

    # then
    assert released.status_code == 200
    assert released.json()["active"] is False
    assert released.json()["release_note"] == "settled"
    assert again.status_code == 409
    assert api.get(HOLDS, {"active": "true"}).json()["results"] == []


def test_a_read_token_cannot_write_and_nothing_changes(
    sqlite_helpdesk: Helpdesk, make_api_client: Callable[..., Any]
) -> None:
    # given
    connector = make_connector(sqlite_helpdesk)
    _, reader = make_api_client("retention:read")
    _, stranger = make_api_client("requests:read")
    builtin = reader.get(POLICIES).json()["results"][0]
    events = AuditEvent.objects.count()

    # when
    responses = [
        reader.post(POLICIES, _policy_body(str(connector.public_id)), format="json"),
        reader.post(f"{POLICIES}{builtin['id']}/run/", {}, format="json"),
        reader.post(
            HOLDS,
            {
                "scope": "connector",
                "connector": str(connector.public_id),
                "reason": "a reason here",
                "legal_basis": "GDPR 17(3)(e)",
            },
            format="json",
        ),
        stranger.get(POLICIES),
        stranger.get(RUNS),
    ]

    # then
    assert [r.status_code for r in responses] == [403] * 5
    assert RetentionPolicy.objects.filter(builtin=False).count() == 0
    assert not PurgeRun.objects.exists()
    assert not LegalHold.objects.exists()
    assert AuditEvent.objects.count() == events


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    sqlite_helpdesk: Helpdesk, make_api_client: Callable[..., Any]
) -> None:
    # given
    connector = make_connector(sqlite_helpdesk)
    _, api = make_api_client("retention:read", "retention:write")

    # when
    bad_table = api.post(
        POLICIES, _policy_body(str(connector.public_id), table="nope"), format="json"
    )
    bad_schedule = api.post(
        POLICIES,
        _policy_body(str(connector.public_id), schedule="at three"),
        format="json",
    )
    no_basis = api.post(
        HOLDS,
        {"scope": "connector", "connector": str(connector.public_id), "reason": "x"},
        format="json",
    )
    no_connector = api.post(
        HOLDS,
        {
            "scope": "table",
            "table": "messages",
            "reason": "regulator inquiry",
            "legal_basis": "GDPR 17(3)(b)",
        },
        format="json",
    )

    # then
    assert bad_table.status_code == 400
    assert "table" in bad_table.json()["errors"]
    assert "schedule" in bad_schedule.json()["errors"]
    assert "legal_basis" in no_basis.json()["errors"]
    assert "connector" in no_connector.json()["errors"]
    assert not RetentionPolicy.objects.filter(builtin=False).exists()
    assert not LegalHold.objects.exists()
