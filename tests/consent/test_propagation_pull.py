"""Withdrawals reach `pull` connectors: the connector's agent lists, claims,
heartbeats and reports them at /api/v1/agent/consent-jobs/. The lease rules
every kind of job shares (one holder, expiry, another connector's jobs, the
agent scope) are tested in tests/connectors/test_jobkit.py; what withdrawals
do besides is here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from connectors.models import Connector
from consent.models import ConsentPropagation
from consent.services.policies import purpose_connector_link
from consent.services.propagations import propagations_sweep
from tests.conftest import CONSENT_JOBS, Agent, attempts_of, outcomes

pytestmark = pytest.mark.django_db

EMAIL = "ada@example.com"
INSTRUCTIONS = {"flag": "ai_training_opt_out"}


@pytest.fixture
def crm(officer_actor: Any, purpose: Any) -> Connector:
    connector = Connector.objects.create(
        name="crm", kind="pull", config={"lease_seconds": 60}
    )
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=INSTRUCTIONS,
    )
    return connector


@pytest.fixture
def make_agent(make_agent: Callable[..., Agent]) -> Callable[[Connector], Agent]:
    """Agents that work the consent queue."""
    return partial(make_agent, queue=CONSENT_JOBS)


@pytest.fixture
def withdrawn(ada: Any, choose: Any, crm: Connector) -> ConsentPropagation:
    """Ada withdrew ai_training: a job waits for the CRM's agent."""
    recorded = choose(ada, "ai_training", False)
    return ConsentPropagation.objects.get(event=recorded.event, connector=crm)


# --- the happy path ---------------------------------------------------------------


def test_withdrawal_waits_for_the_agent(withdrawn) -> None:
    assert withdrawn.status == "waiting"
    assert withdrawn.lease_owner == ""
    assert "waiting for the agent of crm" in withdrawn.status_note
    assert outcomes(withdrawn) == ["deferred"]


def test_agent_lists_claims_and_reports_through_to_done(
    withdrawn, crm, make_agent
) -> None:
    agent = make_agent(crm)

    # when the agent lists its consent jobs
    (job,) = agent.jobs()
    # then it sees what to do and for whom
    assert job["task_id"] == str(withdrawn.public_id)
    assert job["action"] == "consent_withdrawn"
    assert job["purpose"] == "ai_training"
    assert job["identity"]["emails"] == [EMAIL]
    assert job["instructions"] == INSTRUCTIONS
    assert job["lease_expires_at"] is None
    assert "callback_url" not in job
    # and the request-jobs queue is not cluttered with it
    assert agent.http.get("/api/v1/agent/jobs/").json() == []

    # when it claims the job (tests/connectors/test_jobkit.py: the lease)
    claimed = agent.post(withdrawn, "claim")
    assert claimed.status_code == 200, claimed.json()
    assert claimed.json()["identity"]["emails"] == [EMAIL]

    # when it reports the withdrawal applied
    done = agent.post(
        withdrawn, "result", {"status": "done", "changed": 2, "note": "flagged"}
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
    assert outcomes(withdrawn) == ["deferred", "succeeded"]
    assert attempts_of(withdrawn).get(number=2).worker == f"agent {agent.client.name}"
    actor = f"client:{agent.client.public_id}"
    assert AuditEvent.objects.filter(
        action="consent.propagation_claimed", actor=actor
    ).exists()
    succeeded = AuditEvent.objects.get(
        action="consent.propagation_succeeded", actor=actor
    )
    assert EMAIL not in str(succeeded.data)
    assert agent.jobs() == []


# --- the sweeper ------------------------------------------------------------------


def test_an_expired_lease_goes_back_to_the_queue_through_the_sweeper(
    withdrawn, crm, make_agent
) -> None:
    # given a job claimed by an agent that then went quiet
    first, second = make_agent(crm), make_agent(crm)
    assert first.post(withdrawn, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        # when the sweeper runs after the lease ran out
        swept = propagations_sweep()

        # then the job is unclaimed and listed again for any agent
        assert swept["leases_expired"] == 1
        assert swept["leases_failed"] == 0
        withdrawn.refresh_from_db()
        assert (withdrawn.status, withdrawn.lease_owner) == ("waiting", "")
        assert withdrawn.lease_expires_at is None
        (job,) = second.jobs()
        assert job["task_id"] == str(withdrawn.public_id)
        # the first agent's attempt is closed, and it holds nothing any more
        assert outcomes(withdrawn) == ["deferred", "retry"]
        assert first.post(withdrawn, "heartbeat").status_code == 409
        assert first.post(withdrawn, "result", {"status": "done"}).status_code == 409
        # and another agent can take it
        assert second.post(withdrawn, "claim").status_code == 200

    withdrawn.refresh_from_db()
    assert withdrawn.lease_owner == str(second.client.public_id)


def test_an_expired_lease_on_the_last_attempt_fails_the_job(
    withdrawn, crm, make_agent
) -> None:
    # A crashing agent cannot keep a withdrawal in limbo for ever.
    agent = make_agent(crm)
    ConsentPropagation.objects.filter(pk=withdrawn.pk).update(max_attempts=2)
    assert agent.post(withdrawn, "claim").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        swept = propagations_sweep()

    assert (swept["leases_expired"], swept["leases_failed"]) == (1, 1)
    withdrawn.refresh_from_db()
    assert withdrawn.status == "failed"
    assert "lease expired" in withdrawn.last_error
    assert outcomes(withdrawn) == ["deferred", "failed"]
    assert AuditEvent.objects.filter(
        action="consent.propagation_failed", actor="system:consent-propagation"
    ).exists()
    assert agent.jobs() == []


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
