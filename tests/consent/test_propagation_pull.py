"""Withdrawals reach `pull` connectors: the connector's agent lists, claims,
heartbeats and reports them at /api/v1/agent/consent-jobs/, and never sees
another connector's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from audit.models import AuditEvent
from connectors.jobs import agent_token_create
from connectors.models import Connector
from consent.models import ConsentPropagation, PropagationAttempt
from consent.services.policies import purpose_connector_link
from consent.services.propagations import propagations_sweep

pytestmark = pytest.mark.django_db

EMAIL = "ada@example.com"
INSTRUCTIONS = {"flag": "ai_training_opt_out"}
Agent = tuple[ApiClient, APIClient]


def _pull_connector(name: str, officer_actor: Any, purpose: Any) -> Connector:
    connector = Connector.objects.create(
        name=name, kind="pull", config={"lease_seconds": 60}
    )
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=INSTRUCTIONS,
    )
    return connector


@pytest.fixture
def crm(officer_actor: Any, purpose: Any) -> Connector:
    return _pull_connector("crm", officer_actor, purpose)


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


@pytest.fixture
def withdrawn(ada: Any, choose: Any, crm: Connector) -> ConsentPropagation:
    """Ada withdrew ai_training: a job waits for the CRM's agent."""
    recorded = choose(ada, "ai_training", False)
    return ConsentPropagation.objects.get(event=recorded.event, connector=crm)


def _jobs(agent: Agent) -> list[dict[str, Any]]:
    response = agent[1].get("/api/v1/agent/consent-jobs/")
    assert response.status_code == 200, response.json()
    return response.json()


def _post(agent: Agent, job: ConsentPropagation, verb: str, body: Any = None) -> Any:
    return agent[1].post(
        f"/api/v1/agent/consent-jobs/{job.public_id}/{verb}/", body or {}, format="json"
    )


def _outcomes(propagation: ConsentPropagation) -> list[str]:
    return list(
        PropagationAttempt.objects.filter(propagation=propagation)
        .order_by("number")
        .values_list("outcome", flat=True)
    )


def _snapshot(propagation: ConsentPropagation) -> tuple[Any, ...]:
    propagation.refresh_from_db()
    return (
        propagation.status,
        propagation.lease_owner,
        propagation.lease_expires_at,
        propagation.attempts,
        propagation.records_changed,
        AuditEvent.objects.count(),
        PropagationAttempt.objects.filter(propagation=propagation).count(),
    )


# --- the happy path ----------------------------------------------------------------


def test_withdrawal_waits_for_the_agent(withdrawn) -> None:
    assert withdrawn.status == "waiting"
    assert withdrawn.lease_owner == ""
    assert "waiting for the agent of crm" in withdrawn.status_note
    assert _outcomes(withdrawn) == ["deferred"]


def test_agent_lists_claims_heartbeats_and_reports_through_to_done(
    withdrawn, crm, make_agent
) -> None:
    agent = make_agent(crm)

    # when the agent lists its consent jobs
    (job,) = _jobs(agent)
    # then it sees what to do and for whom
    assert job["task_id"] == str(withdrawn.public_id)
    assert job["action"] == "consent_withdrawn"
    assert job["purpose"] == "ai_training"
    assert job["identity"]["emails"] == [EMAIL]
    assert job["instructions"] == INSTRUCTIONS
    assert job["lease_expires_at"] is None
    assert "callback_url" not in job
    # and the request-jobs queue is not cluttered with it
    assert agent[1].get("/api/v1/agent/jobs/").json() == []

    # when it claims the job
    claimed = _post(agent, withdrawn, "claim")
    assert claimed.status_code == 200, claimed.json()
    withdrawn.refresh_from_db()
    # then it holds a lease of the connector's length, and the job leaves the list
    assert withdrawn.lease_owner == str(agent[0].public_id)
    first_expiry = withdrawn.lease_expires_at
    assert (
        timedelta(seconds=55) < first_expiry - timezone.now() <= timedelta(seconds=60)
    )
    assert claimed.json()["identity"]["emails"] == [EMAIL]
    assert _jobs(agent) == []

    # when it heartbeats a little later, the lease is extended
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        beat = _post(agent, withdrawn, "heartbeat")
    assert beat.status_code == 200, beat.json()
    assert beat.json()["task_id"] == str(withdrawn.public_id)
    withdrawn.refresh_from_db()
    assert withdrawn.lease_expires_at > first_expiry

    # when it reports the withdrawal applied
    done = _post(
        agent, withdrawn, "result", {"status": "done", "changed": 2, "note": "flagged"}
    )

    # then the job is done, the lease released, every step recorded
    assert done.status_code == 200, done.json()
    assert done.json() == {
        "task_id": str(withdrawn.public_id),
        "status": "succeeded",
        "records_changed": 2,
    }
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.records_changed) == ("succeeded", 2)
    assert (withdrawn.lease_owner, withdrawn.lease_expires_at) == ("", None)
    assert withdrawn.status_note == "flagged"
    assert _outcomes(withdrawn) == ["deferred", "succeeded"]
    attempts = PropagationAttempt.objects.filter(propagation=withdrawn)
    assert attempts.get(number=2).worker == f"agent {agent[0].name}"
    actor = f"client:{agent[0].public_id}"
    assert AuditEvent.objects.filter(
        action="consent.propagation_claimed", actor=actor
    ).exists()
    succeeded = AuditEvent.objects.get(
        action="consent.propagation_succeeded", actor=actor
    )
    assert EMAIL not in str(succeeded.data)
    assert _jobs(agent) == []


def test_a_retryable_failure_returns_the_job_and_a_final_one_fails_it(
    withdrawn, crm, make_agent
) -> None:
    # given a claimed job with one attempt left after this one
    agent = make_agent(crm)
    ConsentPropagation.objects.filter(pk=withdrawn.pk).update(max_attempts=3)
    assert _post(agent, withdrawn, "claim").status_code == 200

    # when the agent reports a retryable failure
    busy = {"status": "failed", "error": "CRM API rate limited", "retryable": True}
    response = _post(agent, withdrawn, "result", busy)

    # then the job is back in the list, still waiting
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "waiting"
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.lease_owner) == ("waiting", "")
    assert withdrawn.last_error == "CRM API rate limited"
    assert len(_jobs(agent)) == 1

    # when the next attempt fails too, the attempts are used up
    assert _post(agent, withdrawn, "claim").status_code == 200
    assert _post(agent, withdrawn, "result", busy).status_code == 200

    withdrawn.refresh_from_db()
    assert withdrawn.status == "failed"
    assert withdrawn.attempts == 3
    assert _outcomes(withdrawn) == ["deferred", "retry", "failed"]
    assert AuditEvent.objects.filter(action="consent.propagation_failed").count() == 1
    assert _jobs(agent) == []


# --- leases --------------------------------------------------------------------------


def test_a_second_claim_loses_with_409_and_changes_nothing(
    withdrawn, crm, make_agent
) -> None:
    first, second = make_agent(crm), make_agent(crm)

    won = _post(first, withdrawn, "claim")
    before = _snapshot(withdrawn)
    lost = _post(second, withdrawn, "claim")
    not_holder = [
        _post(second, withdrawn, "heartbeat"),
        _post(second, withdrawn, "result", {"status": "done"}),
    ]

    assert won.status_code == 200
    assert lost.status_code == 409
    assert [r.status_code for r in not_holder] == [409, 409]
    assert _snapshot(withdrawn) == before
    assert withdrawn.lease_owner == str(first[0].public_id)


def test_an_expired_lease_goes_back_to_the_queue_through_the_sweeper(
    withdrawn, crm, make_agent
) -> None:
    # given a job claimed by an agent that then went quiet
    first, second = make_agent(crm), make_agent(crm)
    assert _post(first, withdrawn, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        # when the sweeper runs after the lease ran out
        swept = propagations_sweep()

        # then the job is unclaimed and listed again for any agent
        assert swept["leases_expired"] == 1
        assert swept["leases_failed"] == 0
        withdrawn.refresh_from_db()
        assert (withdrawn.status, withdrawn.lease_owner) == ("waiting", "")
        assert withdrawn.lease_expires_at is None
        (job,) = _jobs(second)
        assert job["task_id"] == str(withdrawn.public_id)
        # the first agent's attempt is closed, and it holds nothing any more
        assert _outcomes(withdrawn) == ["deferred", "retry"]
        assert _post(first, withdrawn, "heartbeat").status_code == 409
        assert _post(first, withdrawn, "result", {"status": "done"}).status_code == 409
        # and another agent can take it
        assert _post(second, withdrawn, "claim").status_code == 200

    withdrawn.refresh_from_db()
    assert withdrawn.lease_owner == str(second[0].public_id)


def test_an_expired_lease_is_free_to_claim_before_the_sweeper_runs(
    withdrawn, crm, make_agent
) -> None:
    first, second = make_agent(crm), make_agent(crm)
    assert _post(first, withdrawn, "claim").status_code == 200
    assert _jobs(second) == []

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert len(_jobs(second)) == 1
        assert _post(second, withdrawn, "claim").status_code == 200

    assert _outcomes(withdrawn) == ["deferred", "retry", ""]  # the lost lease closed


def test_an_expired_lease_on_the_last_attempt_fails_the_job(
    withdrawn, crm, make_agent
) -> None:
    # A crashing agent cannot keep a withdrawal in limbo for ever.
    agent = make_agent(crm)
    ConsentPropagation.objects.filter(pk=withdrawn.pk).update(max_attempts=2)
    assert _post(agent, withdrawn, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        swept = propagations_sweep()

    assert (swept["leases_expired"], swept["leases_failed"]) == (1, 1)
    withdrawn.refresh_from_db()
    assert withdrawn.status == "failed"
    assert "lease expired" in withdrawn.last_error
    assert _outcomes(withdrawn) == ["deferred", "failed"]
    assert AuditEvent.objects.filter(
        action="consent.propagation_failed", actor="system:consent-propagation"
    ).exists()
    assert _jobs(agent) == []


# --- isolation -----------------------------------------------------------------------


def test_a_token_never_sees_or_touches_another_connectors_jobs(
    ada, choose, crm, make_agent, officer_actor, purpose
) -> None:
    # given a withdrawal for the CRM and one for the billing system
    billing = _pull_connector("billing", officer_actor, purpose)
    recorded = choose(ada, "ai_training", False)
    crm_job = ConsentPropagation.objects.get(event=recorded.event, connector=crm)
    own = ConsentPropagation.objects.get(event=recorded.event, connector=billing)
    crm_agent, billing_agent = make_agent(crm), make_agent(billing)
    before = _snapshot(crm_job)

    # when the billing agent lists and tries the CRM's job
    listed = _jobs(billing_agent)
    responses = [
        _post(billing_agent, crm_job, "claim"),
        _post(billing_agent, crm_job, "heartbeat"),
        _post(billing_agent, crm_job, "result", {"status": "done"}),
    ]

    # then it sees only its own job, gets 404 for the other, and nothing changed
    assert [job["task_id"] for job in listed] == [str(own.public_id)]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert _snapshot(crm_job) == before
    assert [job["task_id"] for job in _jobs(crm_agent)] == [str(crm_job.public_id)]


def test_a_token_without_the_agent_scope_is_refused_and_changes_nothing(
    withdrawn, make_api_client
) -> None:
    _, http = make_api_client("consent:read", "consent:write")
    before = _snapshot(withdrawn)
    url = f"/api/v1/agent/consent-jobs/{withdrawn.public_id}/claim/"

    listed = http.get("/api/v1/agent/consent-jobs/")
    claimed = http.post(url)
    anonymous = APIClient().post(url)

    assert listed.status_code == 403
    assert claimed.status_code == 403
    assert anonymous.status_code == 401
    assert _snapshot(withdrawn) == before


# --- results -------------------------------------------------------------------------


def test_an_invalid_result_is_refused_naming_the_field_and_changes_nothing(
    withdrawn, crm, make_agent
) -> None:
    agent = make_agent(crm)
    assert _post(agent, withdrawn, "claim").status_code == 200
    before = _snapshot(withdrawn)

    cases = {
        "status": {"status": "finished"},
        "error": {"status": "failed"},
        "changed": {"status": "done", "changed": -1},
        "records": {
            "status": "done",
            "records": [{"location": "C", "key": "1", "data": {}}],
        },
        "exemptions": {
            "status": "done",
            "exemptions": [{"location": "x", "basis": "b", "reason": "r"}],
        },
        "surprise": {"status": "done", "surprise": 1},
        "task_id": {"status": "done", "task_id": "someone-else"},
    }
    for field_path, body in cases.items():
        response = _post(agent, withdrawn, "result", body)
        assert response.status_code == 400, field_path
        assert field_path in response.json()["errors"], response.json()

    assert _snapshot(withdrawn) == before


def test_the_schema_documents_the_consent_job_endpoints() -> None:
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    listed = paths["/api/v1/agent/consent-jobs/"]["get"]
    assert listed["tags"] == ["agent"]
    for verb in ("claim", "heartbeat", "result"):
        assert "post" in paths[f"/api/v1/agent/consent-jobs/{{task_id}}/{verb}/"]
    callback = paths["/api/v1/connector-callbacks/consent/{propagation_id}/"]["post"]
    assert "bearerAuth" not in str(callback.get("security", []))  # signed instead
    assert "X-PrivacyDesk-Signature" in str(callback["parameters"])
    assert {"ConsentJob", "ConsentJobResultRequest"} <= set(
        schema["components"]["schemas"]
    )
