"""The `pull` kind: an agent behind a firewall lists, claims, heartbeats and
reports its connector's jobs. The lease rules every kind of job shares are
tested in tests/connectors/test_jobkit.py; what request tasks do besides is
here."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from audit.accounts import api_client_create
from audit.models import AuditEvent
from connectors.base import ConfigError
from connectors.kinds.pull import PullConnector
from connectors.models import Connector
from dsr.models import Request, RequestTask
from dsr.services.execution.running import task_run
from dsr.services.execution.sweeping import tasks_sweep
from privacydesk.errors import ValidationFailed
from tests.conftest import outcomes, task_waiting

pytestmark = pytest.mark.django_db

EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def crm() -> Connector:
    return Connector.objects.create(
        name="crm", kind="pull", config={"lease_seconds": 60}
    )


# --- the happy path ---------------------------------------------------------------


def test_pull_job_waits_for_its_agent(crm, make_request) -> None:
    request = make_request(kind="access", verified=True)
    task = RequestTask.objects.get(request=request)

    assert task_run(task_id=task.pk) == "deferred"

    task.refresh_from_db()
    assert task.status == "waiting"
    assert task.lease_owner == ""


def test_agent_lists_claims_and_reports_through_to_completion(
    crm, make_agent, make_request
) -> None:
    # given an erasure waiting for the CRM's agent
    agent = make_agent(crm)
    request = make_request(kind="erasure", verified=True)
    task = task_waiting(request, crm)

    # when the agent lists its jobs
    (job,) = agent.jobs()
    # then it sees what to do and for whom
    assert job["task_id"] == str(task.public_id)
    assert job["action"] == "erase"
    assert job["request_reference"] == request.reference
    assert job["identity"]["emails"] == [EMAIL]
    assert job["lease_expires_at"] is None

    # when it claims the job (tests/connectors/test_jobkit.py: the lease)
    claimed = agent.post(task, "claim")
    assert claimed.status_code == 200, claimed.json()
    assert claimed.json()["identity"]["emails"] == [EMAIL]

    # when it reports the erasure
    done = agent.post(task, "result", {"status": "done", "found": 3, "changed": 3})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "succeeded"
    task.refresh_from_db()
    assert (task.status, task.records_found, task.records_changed) == (
        "succeeded",
        3,
        3,
    )
    assert task.lease_owner == ""

    # then the verification pass goes to the agent too
    verify = RequestTask.objects.get(request=request, action="verify_erasure")
    assert task_run(task_id=verify.pk) == "deferred"
    (job,) = agent.jobs()
    assert job["action"] == "verify_erasure"
    assert agent.post(verify, "claim").status_code == 200
    checked = agent.post(verify, "result", {"status": "done", "found": 0})
    assert checked.status_code == 200, checked.json()

    # and the request is complete
    request.refresh_from_db()
    assert request.status == "completed"
    assert outcomes(task) == ["deferred", "succeeded"]
    assert (
        AuditEvent.objects.filter(
            action="task.claimed", actor=f"client:{agent.client.public_id}"
        ).count()
        == 2
    )


def test_access_result_records_are_stored_and_digested(
    crm, make_agent, make_request
) -> None:
    agent = make_agent(crm)
    task = task_waiting(make_request(kind="access", verified=True), crm)
    assert agent.post(task, "claim").status_code == 200

    response = agent.post(
        task,
        "result",
        {
            "status": "done",
            "found": 2,
            "records": [
                {
                    "location": "Contact",
                    "key": "003XX1",
                    "data": {"Email": EMAIL, "Name": "Ada"},
                    "category": "contact",
                },
                {"location": "Case", "key": 500, "data": {"Subject": "Refund"}},
            ],
        },
    )

    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.status == "succeeded"
    assert task.records_found == 2
    assert task.per_location == {
        "Contact": {"found": 1, "changed": 0},
        "Case": {"found": 1, "changed": 0},
    }
    with default_storage.open(task.result_file) as stored:
        content = stored.read()
    assert task.result_digest == hashlib.sha256(content).hexdigest()
    assert response.json()["result_digest"] == task.result_digest
    first = json.loads(content.decode().splitlines()[0])
    assert first == {
        "location": "Contact",
        "key": "003XX1",
        "category": "contact",
        "data": {"Email": EMAIL, "Name": "Ada"},
    }


# --- the sweeper ------------------------------------------------------------------


def test_sweeper_clears_an_expired_lease(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    task = task_waiting(make_request(kind="access", verified=True), crm)
    assert agent.post(task, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        swept = tasks_sweep()

    assert swept["leases_expired"] == 1
    task.refresh_from_db()
    assert (task.status, task.lease_owner, task.lease_expires_at) == (
        "waiting",
        "",
        None,
    )
    assert len(agent.jobs()) == 1


# --- closed requests --------------------------------------------------------------


def test_jobs_of_closed_requests_are_not_listed(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    request = make_request(kind="access", verified=True)
    task_waiting(request, crm)
    Request.objects.filter(pk=request.pk).update(status="cancelled")

    assert agent.jobs() == []


# --- results ----------------------------------------------------------------------


def test_records_are_refused_for_an_erasure(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    task = task_waiting(make_request(kind="erasure", verified=True), crm)
    assert agent.post(task, "claim").status_code == 200

    response = agent.post(
        task,
        "result",
        {"status": "done", "records": [{"location": "C", "key": "1", "data": {}}]},
    )

    assert response.status_code == 400
    assert "records" in response.json()["errors"]


def test_a_final_failure_fails_the_request_with_the_reason(
    crm, make_agent, make_request
) -> None:
    agent = make_agent(crm)
    request = make_request(kind="erasure", verified=True)
    task = task_waiting(request, crm)
    assert agent.post(task, "claim").status_code == 200

    response = agent.post(task, "result", {"status": "failed", "error": "no access"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "failed"
    request.refresh_from_db()
    assert request.status == "failed"
    assert "no access" in request.status_reason


# --- tokens and config ---------------------------------------------------------


def test_command_issues_a_token_bound_to_one_connector(crm, make_request) -> None:
    out = StringIO()

    call_command("create_agent_token", "crm", stdout=out)

    token = out.getvalue().strip().splitlines()[-1]
    client = ApiClient.objects.get(connector=crm)
    assert client.scopes == ["connectors:agent"]
    assert client.name == "agent-crm-1"
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    task_waiting(make_request(kind="access", verified=True), crm)
    assert len(http.get("/api/v1/agent/jobs/").json()) == 1
    # and a second token gets the next name
    call_command("create_agent_token", "crm", stdout=StringIO())
    assert ApiClient.objects.filter(connector=crm).count() == 2


def test_command_refuses_unknown_or_non_pull_connectors(crm) -> None:
    Connector.objects.create(
        name="webhook",
        kind="http",
        config={"url": "https://crm.example.com/dsr"},
        secrets={"signing_key": "k" * 20},
    )

    with pytest.raises(CommandError, match="no connector named"):
        call_command("create_agent_token", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="only pull connectors"):
        call_command("create_agent_token", "webhook", stdout=StringIO())
    assert not ApiClient.objects.exists()


def test_agent_scope_and_connector_go_together(crm) -> None:
    actor = actor_system("tests")
    with pytest.raises(ValidationFailed) as unbound:
        api_client_create(actor=actor, name="a", scopes=["connectors:agent"])
    with pytest.raises(ValidationFailed) as wide:
        api_client_create(
            actor=actor,
            name="b",
            scopes=["connectors:agent", "requests:read"],
            connector=crm,
        )
    with pytest.raises(ValidationFailed):
        api_client_create(
            actor=actor, name="c", scopes=["requests:read"], connector=crm
        )

    assert unbound.value.field == "connector"
    assert wide.value.field == "scopes"
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize(
    ("config", "field_path"),
    [
        ({"lease_seconds": 5}, "config.lease_seconds"),
        ({"lease_seconds": "300"}, "config.lease_seconds"),
        ({"actions": []}, "config.actions"),
        ({"poll": 1}, "config.poll"),
    ],
)
def test_bad_pull_config_is_refused_naming_its_path(config, field_path) -> None:
    with pytest.raises(ConfigError) as error:
        PullConnector.validate_config(config)
    assert error.value.field == field_path


def test_pull_config_defaults_to_a_five_minute_lease() -> None:
    assert PullConnector.validate_config({}) == {"lease_seconds": 300}


def test_health_reports_whether_the_agent_calls_in(crm, make_agent) -> None:
    from connectors.base import ConnectorError

    with pytest.raises(ConnectorError, match="no agent token"):
        crm.instance().health()
    agent = make_agent(crm)
    with pytest.raises(ConnectorError, match="not called in yet"):
        crm.instance().health()

    agent.jobs()

    assert crm.instance().health().status.startswith("agent last seen")
