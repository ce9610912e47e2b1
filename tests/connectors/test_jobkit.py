"""The lease kit (connectors.jobkit) through both kinds of job it serves.

Request tasks and consent withdrawals obey one set of rules: pull agents at
/api/v1/agent/jobs/ and /api/v1/agent/consent-jobs/, webhooks' signed
callbacks at /api/v1/connector-callbacks/. Every test here runs once per
kind; what only one kind does is tested with it (tests/connectors/test_pull.py
and test_http.py, tests/consent/test_propagation_pull.py and
test_propagation_http.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from audit.models import AuditEvent
from connectors.agent_tokens import agent_token_create
from connectors.jobkit import FAILED, PENDING, RETRY, RUNNING, SUCCEEDED, WAITING
from connectors.models import Connector
from consent.choices import AttemptOutcome as PropagationOutcome
from consent.choices import PropagationStatus
from consent.models import ConsentPropagation, Purpose
from consent.seed import seed_purposes
from consent.services.events import consent_set
from consent.services.policies import purpose_connector_link
from dsr.choices import AttemptOutcome as TaskOutcome
from dsr.choices import TaskStatus
from dsr.models import RequestTask
from dsr.services.agent_jobs import request_task_jobs
from privacydesk.errors import IllegalTransition
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create
from tests.conftest import (
    CONSENT_JOBS,
    REQUEST_JOBS,
    Webhook,
    attempts_of,
    outcomes,
    signed_post,
    snapshot,
    task_waiting,
    webhook_connector,
)

pytestmark = pytest.mark.django_db

EMAIL = "ada.lovelace@example.com"
KEY = "whsec-kit-0123456789abcdef"
BUSY = {"status": "failed", "error": "CRM API rate limited", "retryable": True}


@dataclass
class Kind:
    """One kind of job as these tests drive it."""

    queue: str  # where its agents work
    callbacks: str  # where its webhooks call back
    audit: str  # its audit actions' prefix
    other_scopes: tuple[str, ...]  # an API client of its area that is no agent
    done: dict[str, Any]  # a "done" result it takes
    invalid: dict[str, Any]  # results only this kind refuses, by the field named
    park: Callable[..., list[Any]]  # park(*connectors): a job waiting at each

    def callback(
        self, job: Any, payload: dict[str, Any], *, key: str = KEY, **signing: Any
    ) -> Any:
        """The job's webhook calls back, signed with its key unless told."""
        url = f"{self.callbacks}{job.public_id}/"
        return signed_post(url, payload, key=key, **signing)


@pytest.fixture(params=["request-task", "withdrawal"])
def kind(
    request: pytest.FixtureRequest,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> Kind:
    """Each test below runs once for request tasks, once for withdrawals."""
    if request.param == "request-task":
        return _request_tasks(make_request)
    return _withdrawals(officer_actor, django_capture_on_commit_callbacks)


def _request_tasks(make_request: Any) -> Kind:
    def park(*connectors: Connector) -> list[Any]:
        made = make_request(kind="access", verified=True)
        return [task_waiting(made, connector) for connector in connectors]

    return Kind(
        queue=REQUEST_JOBS,
        callbacks="/api/v1/connector-callbacks/",
        audit="task.",
        other_scopes=("requests:read", "requests:manage"),
        done={"status": "done", "records": []},
        invalid={
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
            "exemptions[0].basis": {
                "status": "done",
                "exemptions": [{"location": "Invoice", "reason": "tax"}],
            },
        },
        park=park,
    )


def _withdrawals(officer_actor: Any, capture_on_commit: Any) -> Kind:
    def park(*connectors: Connector) -> list[Any]:
        seed_purposes()  # a transactional test elsewhere may have flushed them
        purpose = Purpose.objects.get(slug="ai_training")
        for connector in connectors:
            purpose_connector_link(
                actor=officer_actor, purpose=purpose, connector=connector, action={}
            )
        subject = subject_get_or_create(claims=identity_claims({"email": EMAIL}))
        with capture_on_commit(execute=True):  # the propagations run and wait
            recorded = consent_set(
                actor=actor_system("tests"),
                subject=subject,
                purpose="ai_training",
                granted=False,
                channel="api",
            )
        return [
            ConsentPropagation.objects.get(event=recorded.event, connector=connector)
            for connector in connectors
        ]

    return Kind(
        queue=CONSENT_JOBS,
        callbacks="/api/v1/connector-callbacks/consent/",
        audit="consent.propagation_",
        other_scopes=("consent:read", "consent:write"),
        done={"status": "done", "changed": 1},
        invalid={
            "changed": {"status": "done", "changed": -1},
            "records": {
                "status": "done",
                "records": [{"location": "C", "key": "1", "data": {}}],
            },
            "exemptions": {
                "status": "done",
                "exemptions": [{"location": "x", "basis": "b", "reason": "r"}],
            },
        },
        park=park,
    )


@pytest.fixture
def crm() -> Connector:
    return Connector.objects.create(
        name="crm", kind="pull", config={"lease_seconds": 60}
    )


@pytest.fixture
def hook(webhook: Webhook) -> Connector:
    """A webhook that accepts every job with 202 and calls back later."""
    return webhook_connector(webhook, key=KEY)


def test_both_kinds_spell_the_kits_states_alike() -> None:
    assert {PENDING, RUNNING, WAITING} <= set(TaskStatus.values)
    assert {PENDING, RUNNING, WAITING} <= set(PropagationStatus.values)
    assert {SUCCEEDED, RETRY, FAILED} <= set(TaskOutcome.values)
    assert {SUCCEEDED, RETRY, FAILED} <= set(PropagationOutcome.values)


# --- pull agents: leases ---------------------------------------------------------


def test_a_claim_takes_a_lease_of_the_connectors_length_and_a_heartbeat_extends_it(
    kind, crm, make_agent
) -> None:
    # given a job waiting for the CRM's agent
    agent = make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    (listed,) = agent.jobs()
    assert listed["task_id"] == str(job.public_id)
    assert listed["lease_expires_at"] is None

    # when the agent claims it
    claimed = agent.post(job, "claim")

    # then it holds a lease of the connector's length, and the job leaves the list
    assert claimed.status_code == 200, claimed.json()
    assert claimed.json()["identity"]["emails"] == [EMAIL]
    job.refresh_from_db()
    assert job.lease_owner == str(agent.client.public_id)
    first_expiry = job.lease_expires_at
    assert (
        timedelta(seconds=55) < first_expiry - timezone.now() <= timedelta(seconds=60)
    )
    assert agent.jobs() == []
    assert attempts_of(job).get(number=2).worker == f"agent {agent.client.name}"
    assert AuditEvent.objects.filter(
        action=f"{kind.audit}claimed", actor=f"client:{agent.client.public_id}"
    ).exists()

    # when it heartbeats a little later, the lease is extended
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        beat = agent.post(job, "heartbeat")
    assert beat.status_code == 200, beat.json()
    assert beat.json()["task_id"] == str(job.public_id)
    job.refresh_from_db()
    assert job.lease_expires_at > first_expiry


def test_a_second_claim_loses_with_409_and_changes_nothing(
    kind, crm, make_agent
) -> None:
    # given two agents of the same connector
    first, second = make_agent(crm, kind.queue), make_agent(crm, kind.queue)
    (job,) = kind.park(crm)

    # when both claim the job, and the first claims again
    won = first.post(job, "claim")
    before = snapshot(job)
    lost = second.post(job, "claim")
    again = first.post(job, "claim")

    # then the first holds it and the others were refused without effect
    assert won.status_code == 200
    assert lost.status_code == 409
    assert again.status_code == 409
    assert snapshot(job) == before
    assert job.lease_owner == str(first.client.public_id)


def test_only_the_holder_may_heartbeat_or_report(kind, crm, make_agent) -> None:
    holder, other = make_agent(crm, kind.queue), make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    assert other.post(job, "result", kind.done).status_code == 409  # unclaimed
    assert holder.post(job, "claim").status_code == 200
    before = snapshot(job)

    responses = [other.post(job, "result", kind.done), other.post(job, "heartbeat")]

    assert [r.status_code for r in responses] == [409, 409]
    assert snapshot(job) == before


def test_an_expired_lease_is_free_to_claim_before_the_sweeper_runs(
    kind, crm, make_agent
) -> None:
    # given a job claimed by an agent that then went quiet
    first, second = make_agent(crm, kind.queue), make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    assert first.post(job, "claim").status_code == 200
    assert second.jobs() == []

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        # when the lease has run out, the job is listed again
        (listed,) = second.jobs()
        assert listed["task_id"] == str(job.public_id)
        # and another agent can claim it
        assert second.post(job, "claim").status_code == 200
        # while the first agent no longer holds it
        assert first.post(job, "heartbeat").status_code == 409
        assert first.post(job, "result", kind.done).status_code == 409

    job.refresh_from_db()
    assert (job.status, job.lease_owner) == ("waiting", str(second.client.public_id))
    assert outcomes(job) == ["deferred", "retry", ""]  # the lost lease is closed


def test_a_retryable_failure_returns_the_job_and_a_final_one_fails_it(
    kind, crm, make_agent
) -> None:
    # given a claimed job with one attempt left after this one
    agent = make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    type(job).objects.filter(pk=job.pk).update(max_attempts=3)
    assert agent.post(job, "claim").status_code == 200

    # when the agent reports a retryable failure
    response = agent.post(job, "result", BUSY)

    # then the job is back in the list, still waiting
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "waiting"
    job.refresh_from_db()
    assert (job.status, job.lease_owner) == ("waiting", "")
    assert job.last_error == "CRM API rate limited"
    assert len(agent.jobs()) == 1
    assert AuditEvent.objects.filter(action=f"{kind.audit}retry_requested").exists()

    # when the next attempt fails too, the attempts are used up
    assert agent.post(job, "claim").status_code == 200
    assert agent.post(job, "result", BUSY).status_code == 200

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 3)
    assert outcomes(job) == ["deferred", "retry", "failed"]
    assert AuditEvent.objects.filter(action=f"{kind.audit}failed").count() == 1
    assert agent.jobs() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_claims_have_exactly_one_winner(crm, make_request) -> None:
    # given eight agents racing for one job in their own connections (a request
    # task stands for both kinds: the compare-and-swap is the kit's)
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
            request_task_jobs.agent_claim(client=client, public_id=str(task.public_id))
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


def test_an_invalid_result_is_refused_naming_the_field_and_changes_nothing(
    kind, crm, make_agent
) -> None:
    agent = make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    assert agent.post(job, "claim").status_code == 200
    before = snapshot(job)

    cases = {
        "status": {"status": "finished"},
        "error": {"status": "failed"},
        "surprise": {"status": "done", "surprise": 1},
        "task_id": {"status": "done", "task_id": "someone-else"},
        **kind.invalid,
    }
    for field_path, body in cases.items():
        response = agent.post(job, "result", body)
        assert response.status_code == 400, field_path
        assert field_path in response.json()["errors"], response.json()

    assert snapshot(job) == before


# --- pull agents: whose jobs ------------------------------------------------------


def test_a_token_never_sees_or_touches_another_connectors_jobs(
    kind, crm, make_agent
) -> None:
    # given a job for the CRM and one for the billing system
    billing = Connector.objects.create(name="billing", kind="pull")
    crm_job, own = kind.park(crm, billing)
    crm_agent = make_agent(crm, kind.queue)
    billing_agent = make_agent(billing, kind.queue)
    before = snapshot(crm_job)

    # when the billing agent lists and tries the CRM's job
    listed = billing_agent.jobs()
    responses = [
        billing_agent.post(crm_job, "claim"),
        billing_agent.post(crm_job, "heartbeat"),
        billing_agent.post(crm_job, "result", kind.done),
    ]

    # then it sees only its own job, gets 404 for the other, and nothing changed
    assert [job["task_id"] for job in listed] == [str(own.public_id)]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert snapshot(crm_job) == before
    assert [job["task_id"] for job in crm_agent.jobs()] == [str(crm_job.public_id)]


def test_a_token_without_the_agent_scope_is_refused_and_changes_nothing(
    kind, crm, make_api_client
) -> None:
    _, http = make_api_client(*kind.other_scopes)
    (job,) = kind.park(crm)
    before = snapshot(job)
    claim = f"{kind.queue}{job.public_id}/claim/"

    listed = http.get(kind.queue)
    claimed = http.post(claim)
    anonymous = APIClient().post(claim)

    assert listed.status_code == 403
    assert claimed.status_code == 403
    assert anonymous.status_code == 401
    assert snapshot(job) == before


def test_a_revoked_agent_token_is_refused(kind, crm, make_agent) -> None:
    agent = make_agent(crm, kind.queue)
    (job,) = kind.park(crm)
    ApiClient.objects.filter(pk=agent.client.pk).update(revoked_at=timezone.now())
    before = snapshot(job)

    response = agent.post(job, "claim")

    assert response.status_code == 401
    assert snapshot(job) == before


# --- webhooks' signed callbacks ---------------------------------------------------


def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(
    kind, hook
) -> None:
    (job,) = kind.park(hook)
    before = snapshot(job)
    payload = {"task_id": str(job.public_id), **kind.done}
    url = f"{kind.callbacks}{job.public_id}/"

    wrong_key = kind.callback(job, payload, key="another-key-0123456789")
    garbage = kind.callback(job, payload, signature="sha256=" + "0" * 64)
    unsigned = Client().post(url, data=payload, content_type="application/json")
    bearer_only = Client().post(
        url,
        data=payload,
        content_type="application/json",
        headers={"Authorization": "Bearer pd_whatever"},
    )

    responses = [wrong_key, garbage, unsigned, bearer_only]
    assert [r.status_code for r in responses] == [401, 401, 401, 401]
    assert wrong_key.headers["WWW-Authenticate"].startswith("PrivacyDesk-Signature")
    assert snapshot(job) == before
    assert job.status == "waiting"


def test_a_callback_older_or_newer_than_five_minutes_is_refused(kind, hook) -> None:
    (job,) = kind.park(hook)
    before = snapshot(job)
    payload = {"task_id": str(job.public_id), **kind.done}

    stale = kind.callback(job, payload, timestamp=int(time.time()) - 330)
    ahead = kind.callback(job, payload, timestamp=int(time.time()) + 330)

    assert stale.status_code == 401
    assert "300 seconds" in stale.json()["detail"]
    assert ahead.status_code == 401
    assert snapshot(job) == before


def test_a_replayed_callback_is_refused_and_changes_nothing(kind, hook) -> None:
    # given a job whose callback was recorded
    (job,) = kind.park(hook)
    payload = {"task_id": str(job.public_id), **kind.done}
    assert kind.callback(job, payload).status_code == 200
    before = snapshot(job)

    # when the same signed callback arrives again inside the five minutes
    replay = kind.callback(job, payload)

    # then it is refused and nothing changes
    assert replay.status_code == 409
    assert snapshot(job) == before


def test_a_callback_must_name_its_own_job(kind, hook) -> None:
    (job,) = kind.park(hook)
    before = snapshot(job)
    someone_else = {"task_id": str(uuid.uuid4()), **kind.done}

    other = kind.callback(job, someone_else)
    unknown = signed_post(f"{kind.callbacks}{uuid.uuid4()}/", someone_else, key=KEY)
    malformed = signed_post(f"{kind.callbacks}not-a-uuid/", kind.done, key=KEY)

    assert other.status_code == 400
    assert "task_id" in other.json()["errors"]
    assert unknown.status_code == 404
    assert malformed.status_code == 404
    assert snapshot(job) == before
