"""The `pull` kind: an agent behind a firewall lists, claims, heartbeats and
reports its connector's jobs, and never sees another connector's."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from accounts.services import api_client_create
from audit.models import AuditEvent
from connectors.base import ConfigError
from connectors.jobs import agent_job_claim, agent_token_create
from connectors.kinds.pull import PullConnector
from connectors.models import Connector
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution import task_run, tasks_sweep
from privacydesk.errors import IllegalTransition, ValidationFailed

pytestmark = pytest.mark.django_db

EMAIL = "ada.lovelace@example.com"
Agent = tuple[ApiClient, APIClient]


@pytest.fixture
def crm() -> Connector:
    return Connector.objects.create(
        name="crm", kind="pull", config={"lease_seconds": 60}
    )


@pytest.fixture
def make_agent() -> Callable[[Connector], Agent]:
    def make(connector: Connector) -> Agent:
        client, token = agent_token_create(
            actor=actor_system("tests"), connector=connector
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http

    return make


def _waiting_task(request: Request, connector: Connector) -> RequestTask:
    task = RequestTask.objects.get(request=request, connector=connector)
    assert task_run(task_id=task.pk) == "deferred"
    task.refresh_from_db()
    assert task.status == "waiting"
    return task


def _jobs(agent: Agent) -> list[dict[str, Any]]:
    response = agent[1].get("/api/v1/agent/jobs/")
    assert response.status_code == 200, response.json()
    return response.json()


def _post(agent: Agent, task: RequestTask, verb: str, body: Any = None) -> Any:
    return agent[1].post(
        f"/api/v1/agent/jobs/{task.public_id}/{verb}/", body or {}, format="json"
    )


def _snapshot(task: RequestTask) -> tuple[Any, ...]:
    task.refresh_from_db()
    return (
        task.status,
        task.lease_owner,
        task.lease_expires_at,
        task.attempts,
        task.result_file,
        task.records_found,
        AuditEvent.objects.count(),
        TaskAttempt.objects.filter(task=task).count(),
    )


# --- the happy path ----------------------------------------------------------------


def test_pull_job_waits_for_its_agent(crm, make_request) -> None:
    request = make_request(kind="access", verified=True)
    task = RequestTask.objects.get(request=request)

    assert task_run(task_id=task.pk) == "deferred"

    task.refresh_from_db()
    assert task.status == "waiting"
    assert task.lease_owner == ""


def test_agent_lists_claims_heartbeats_and_reports_through_to_completion(
    crm, make_agent, make_request
) -> None:
    # given an erasure waiting for the CRM's agent
    agent = make_agent(crm)
    request = make_request(kind="erasure", verified=True)
    task = _waiting_task(request, crm)

    # when the agent lists its jobs
    (job,) = _jobs(agent)
    # then it sees what to do and for whom
    assert job["task_id"] == str(task.public_id)
    assert job["action"] == "erase"
    assert job["request_reference"] == request.reference
    assert job["identity"]["emails"] == [EMAIL]
    assert job["lease_expires_at"] is None

    # when it claims the job
    claimed = _post(agent, task, "claim")
    assert claimed.status_code == 200, claimed.json()
    task.refresh_from_db()
    # then it holds a lease of the connector's length, and the job leaves the list
    assert task.lease_owner == str(agent[0].public_id)
    first_expiry = task.lease_expires_at
    assert (
        timedelta(seconds=55) < first_expiry - timezone.now() <= timedelta(seconds=60)
    )
    assert claimed.json()["identity"]["emails"] == [EMAIL]
    assert _jobs(agent) == []

    # when it heartbeats a little later, the lease is extended
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        beat = _post(agent, task, "heartbeat")
    assert beat.status_code == 200, beat.json()
    task.refresh_from_db()
    assert task.lease_expires_at > first_expiry

    # when it reports the erasure
    done = _post(agent, task, "result", {"status": "done", "found": 3, "changed": 3})
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
    (job,) = _jobs(agent)
    assert job["action"] == "verify_erasure"
    assert _post(agent, verify, "claim").status_code == 200
    checked = _post(agent, verify, "result", {"status": "done", "found": 0})
    assert checked.status_code == 200, checked.json()

    # and the request is complete
    request.refresh_from_db()
    assert request.status == "completed"
    attempts = TaskAttempt.objects.filter(task=task).order_by("number")
    assert [a.outcome for a in attempts] == ["deferred", "succeeded"]
    assert (
        AuditEvent.objects.filter(
            action="task.claimed", actor=f"client:{agent[0].public_id}"
        ).count()
        == 2
    )


def test_access_result_records_are_stored_and_digested(
    crm, make_agent, make_request
) -> None:
    agent = make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    assert _post(agent, task, "claim").status_code == 200

    response = _post(
        agent,
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


# --- leases --------------------------------------------------------------------------


def test_a_second_claim_loses_with_409(crm, make_agent, make_request) -> None:
    # given two agents of the same connector
    first, second = make_agent(crm), make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)

    # when both claim the job
    won = _post(first, task, "claim")
    before = _snapshot(task)
    lost = _post(second, task, "claim")
    again = _post(first, task, "claim")

    # then the first holds it and the others were refused without effect
    assert won.status_code == 200
    assert lost.status_code == 409
    assert again.status_code == 409
    assert _snapshot(task) == before
    assert task.lease_owner == str(first[0].public_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_claims_have_exactly_one_winner(crm, make_request) -> None:
    # given eight agents racing for one job in their own connections
    agents = [
        agent_token_create(actor=actor_system("tests"), connector=crm)[0]
        for _ in range(8)
    ]
    # (committed for real here, so the eager executor has parked the job)
    task = RequestTask.objects.get(
        request=make_request(kind="access", verified=True), status="waiting"
    )
    start = threading.Barrier(len(agents))
    results: list[str] = []

    def claim(client: ApiClient) -> None:
        try:
            start.wait()
            agent_job_claim(client=client, public_id=str(task.public_id))
            results.append("won")
        except IllegalTransition:
            results.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results) == ["lost"] * 7 + ["won"]
    task.refresh_from_db()
    assert task.lease_owner in {str(a.public_id) for a in agents}
    assert task.attempts == 2  # the deferral and one claim


def test_expired_lease_returns_the_job_for_another_agent(
    crm, make_agent, make_request
) -> None:
    # given a job claimed by an agent that then went quiet
    first, second = make_agent(crm), make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    assert _post(first, task, "claim").status_code == 200
    assert _jobs(second) == []

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        # when the lease has run out, the job is listed again
        (job,) = _jobs(second)
        assert job["task_id"] == str(task.public_id)
        # and another agent can claim it
        assert _post(second, task, "claim").status_code == 200
        # while the first agent no longer holds it
        assert _post(first, task, "heartbeat").status_code == 409
        late = _post(first, task, "result", {"status": "done", "records": []})
        assert late.status_code == 409

    task.refresh_from_db()
    assert task.lease_owner == str(second[0].public_id)
    assert task.status == "waiting"
    outcomes = list(
        TaskAttempt.objects.filter(task=task)
        .order_by("number")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["deferred", "retry", ""]  # the lost lease is closed


def test_sweeper_clears_an_expired_lease(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    assert _post(agent, task, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        swept = tasks_sweep()

    assert swept["leases_expired"] == 1
    task.refresh_from_db()
    assert (task.status, task.lease_owner, task.lease_expires_at) == (
        "waiting",
        "",
        None,
    )
    assert len(_jobs(agent)) == 1


def test_result_from_a_non_holder_is_409_and_changes_nothing(
    crm, make_agent, make_request
) -> None:
    holder, other = make_agent(crm), make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    unclaimed = _post(other, task, "result", {"status": "done", "records": []})
    assert unclaimed.status_code == 409
    assert _post(holder, task, "claim").status_code == 200
    before = _snapshot(task)

    response = _post(other, task, "result", {"status": "done", "records": []})
    beat = _post(other, task, "heartbeat")

    assert response.status_code == 409
    assert beat.status_code == 409
    assert _snapshot(task) == before


# --- isolation -----------------------------------------------------------------------


def test_a_token_never_sees_or_touches_another_connectors_jobs(
    crm, make_agent, make_request
) -> None:
    # given a job of the CRM and an agent of the billing system
    billing = Connector.objects.create(name="billing", kind="pull")
    crm_agent, billing_agent = make_agent(crm), make_agent(billing)
    request = make_request(kind="access", verified=True)
    task = _waiting_task(request, crm)
    own = _waiting_task(request, billing)
    before = _snapshot(task)

    # when the billing agent lists and tries the CRM's job
    listed = _jobs(billing_agent)
    responses = [
        _post(billing_agent, task, "claim"),
        _post(billing_agent, task, "heartbeat"),
        _post(billing_agent, task, "result", {"status": "done", "records": []}),
    ]

    # then it sees only its own job, gets 404 for the other, and nothing changed
    assert [job["task_id"] for job in listed] == [str(own.public_id)]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert _snapshot(task) == before
    assert [job["task_id"] for job in _jobs(crm_agent)] == [str(task.public_id)]


def test_a_token_without_the_agent_scope_is_refused_and_changes_nothing(
    crm, make_api_client, make_request
) -> None:
    _, http = make_api_client("requests:read", "requests:manage")
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    before = _snapshot(task)

    listed = http.get("/api/v1/agent/jobs/")
    claimed = http.post(f"/api/v1/agent/jobs/{task.public_id}/claim/")
    anonymous = APIClient().post(f"/api/v1/agent/jobs/{task.public_id}/claim/")

    assert listed.status_code == 403
    assert claimed.status_code == 403
    assert anonymous.status_code == 401
    assert _snapshot(task) == before


def test_a_revoked_agent_token_is_refused(crm, make_agent, make_request) -> None:
    client, http = make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    before = _snapshot(task)

    response = http.post(f"/api/v1/agent/jobs/{task.public_id}/claim/")

    assert response.status_code == 401
    assert _snapshot(task) == before


def test_jobs_of_closed_requests_are_not_listed(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    request = make_request(kind="access", verified=True)
    _waiting_task(request, crm)
    Request.objects.filter(pk=request.pk).update(status="cancelled")

    assert _jobs(agent) == []


# --- results -------------------------------------------------------------------------


def test_an_invalid_result_is_refused_naming_the_field_and_changes_nothing(
    crm, make_agent, make_request
) -> None:
    agent = make_agent(crm)
    task = _waiting_task(make_request(kind="access", verified=True), crm)
    assert _post(agent, task, "claim").status_code == 200
    before = _snapshot(task)

    cases = {
        "records[1].location": {
            "status": "done",
            "records": [
                {"location": "Contact", "key": "1", "data": {}},
                {"key": "2", "data": {}},
            ],
        },
        "records[0].data": {
            "status": "done",
            "records": [{"location": "Contact", "key": "1", "data": "x"}],
        },
        "found": {
            "status": "done",
            "found": 5,
            "records": [{"location": "C", "key": "1", "data": {}}],
        },
        "status": {"status": "finished"},
        "error": {"status": "failed"},
        "exemptions[0].basis": {
            "status": "done",
            "exemptions": [{"location": "Invoice", "reason": "tax"}],
        },
        "surprise": {"status": "done", "surprise": 1},
        "task_id": {"status": "done", "task_id": "someone-else"},
    }
    for field_path, body in cases.items():
        response = _post(agent, task, "result", body)
        assert response.status_code == 400, field_path
        assert field_path in response.json()["errors"], response.json()

    assert _snapshot(task) == before


def test_records_are_refused_for_an_erasure(crm, make_agent, make_request) -> None:
    agent = make_agent(crm)
    task = _waiting_task(make_request(kind="erasure", verified=True), crm)
    assert _post(agent, task, "claim").status_code == 200

    response = _post(
        agent,
        task,
        "result",
        {"status": "done", "records": [{"location": "C", "key": "1", "data": {}}]},
    )

    assert response.status_code == 400
    assert "records" in response.json()["errors"]


def test_a_retryable_failure_returns_the_job_and_a_final_one_fails_it(
    crm, make_agent, make_request
) -> None:
    # given a claimed job with one attempt left after this one
    agent = make_agent(crm)
    request = make_request(kind="erasure", verified=True)
    task = _waiting_task(request, crm)
    RequestTask.objects.filter(pk=task.pk).update(max_attempts=3)
    assert _post(agent, task, "claim").status_code == 200

    # when the agent reports a retryable failure
    busy = {"status": "failed", "error": "CRM API rate limited", "retryable": True}
    assert _post(agent, task, "result", busy).status_code == 200

    # then the job is back in the list, still waiting
    task.refresh_from_db()
    assert (task.status, task.lease_owner) == ("waiting", "")
    assert task.last_error == "CRM API rate limited"
    assert len(_jobs(agent)) == 1

    # when the next attempt fails too, the attempts are used up
    assert _post(agent, task, "claim").status_code == 200
    assert _post(agent, task, "result", busy).status_code == 200

    # then the task and the request failed, with the reason
    task.refresh_from_db()
    assert task.status == "failed"
    request.refresh_from_db()
    assert request.status == "failed"
    assert "CRM API rate limited" in request.status_reason
    outcomes = list(
        TaskAttempt.objects.filter(task=task)
        .order_by("number")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["deferred", "retry", "failed"]


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
    _waiting_task(make_request(kind="access", verified=True), crm)
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

    _jobs(agent)

    assert crm.instance().health().startswith("agent last seen")
