"""Withdrawals reach `http` connectors as signed jobs, against a real webhook
server on 127.0.0.1 (the `webhook` fixture of tests/conftest.py): a result in
the response, a 202 and a signed callback, refusals, retries. The callback
rules every kind of job shares (signatures, replays, the job's own id) are
tested in tests/connectors/test_jobkit.py."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from audit.models import AuditEvent
from connectors.models import Connector
from consent.models import ConsentPropagation
from consent.services.policies import purpose_connector_link
from dsr.models import RequestTask
from tests.conftest import (
    Webhook,
    outcomes,
    sign,
    signed_post,
    snapshot,
    webhook_connector,
)

pytestmark = pytest.mark.django_db

KEY = "whsec-consent-0123456789abcdef"
EMAIL = "ada@example.com"
INSTRUCTIONS = {"flag": "ai_training_opt_out", "delete": "training_copies"}


@pytest.fixture
def crm(webhook: Webhook, officer_actor: Any, purpose: Any) -> Connector:
    """A CRM webhook that honours ai_training."""
    connector = webhook_connector(webhook, key=KEY)
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action=INSTRUCTIONS,
    )
    return connector


def _callback(public_id: Any, payload: dict[str, Any]) -> Any:
    url = f"/api/v1/connector-callbacks/consent/{public_id}/"
    return signed_post(url, payload, key=KEY)


def _done(propagation: ConsentPropagation, **counts: Any) -> dict[str, Any]:
    return {"task_id": str(propagation.public_id), "status": "done", **counts}


# --- the job ------------------------------------------------------------------------


def test_withdrawal_is_posted_signed_and_done_in_the_response(
    ada, choose, crm, webhook
) -> None:
    # given a webhook that applies the withdrawal at once
    webhook.reply = (200, {"status": "done", "changed": 3, "note": "flag set"})

    # when Ada withdraws ai_training
    recorded = choose(ada, "ai_training", False)

    # then one signed POST went out, the identity in its body only
    propagation = ConsentPropagation.objects.get(event=recorded.event)
    (job,) = webhook.received
    assert job.path == "/privacy/jobs"
    assert EMAIL not in job.path
    timestamp = int(job.headers["X-PrivacyDesk-Timestamp"])
    assert abs(timestamp - time.time()) < 60
    assert job.headers["X-PrivacyDesk-Signature"] == sign(job.body, timestamp, KEY)
    document = job.json()
    assert document["task_id"] == str(propagation.public_id)
    assert document["action"] == "consent_withdrawn"
    assert document["purpose"] == "ai_training"
    assert document["identity"] == {
        "emails": [EMAIL],
        "phones": [],
        "customer_ids": {},
    }
    assert document["instructions"] == INSTRUCTIONS
    assert document["withdrawn_at"].startswith(
        recorded.event.occurred_at.date().isoformat()
    )
    assert document["callback_url"].endswith(
        f"/api/v1/connector-callbacks/consent/{propagation.public_id}/"
    )
    assert EMAIL not in document["callback_url"]
    # and the answer closed the job, audited without personal data
    assert propagation.status == "succeeded"
    assert propagation.records_changed == 3
    assert propagation.status_note == "flag set"
    assert propagation.attempts == 1
    assert outcomes(propagation) == ["succeeded"]
    audit = AuditEvent.objects.get(action="consent.propagation_succeeded")
    assert audit.data["changed"] == 3
    assert audit.data["propagation"] == str(propagation.public_id)
    assert EMAIL not in json.dumps(audit.data)


def test_a_failure_in_the_response_fails_for_good_unless_retryable(
    ada, choose, crm, webhook, settings
) -> None:
    settings.TASK_RETRY_BASE_SECONDS = 0
    answers = iter(
        [
            (200, {"status": "failed", "error": "CRM busy", "retryable": True}),
            (200, {"status": "failed", "error": "no such customer"}),
        ]
    )
    webhook.reply = lambda job: next(answers)

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert "no such customer" in propagation.last_error
    assert outcomes(propagation) == ["retry", "failed"]
    assert len(webhook.received) == 2


# --- deferred results and callbacks -------------------------------------------------


def test_accepted_withdrawal_waits_and_a_signed_callback_completes_it(
    ada, choose, crm, webhook
) -> None:
    # given a webhook that accepts the job and answers later
    webhook.reply = (202, {"reference": "crm-job-77"})
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "waiting"
    assert propagation.deferred_reference == "crm-job-77"
    assert "waiting for its callback" in propagation.status_note
    assert outcomes(propagation) == ["deferred"]
    assert not AuditEvent.objects.filter(
        action="consent.propagation_succeeded"
    ).exists()

    # when the webhook calls back, signed
    response = _callback(propagation.public_id, _done(propagation, changed=2))

    # then the withdrawal is done, audited as the webhook
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "task_id": str(propagation.public_id),
        "status": "succeeded",
        "records_changed": 2,
    }
    propagation.refresh_from_db()
    assert (propagation.status, propagation.records_changed) == ("succeeded", 2)
    assert propagation.status_note == ""
    assert propagation.finished_at is not None
    assert AuditEvent.objects.filter(
        action="consent.propagation_succeeded", actor=f"connector:{crm.public_id}"
    ).exists()


def test_each_kind_of_job_calls_back_at_its_own_door(
    ada, choose, crm, webhook, make_request
) -> None:
    # given a waiting withdrawal and a waiting request task on the same webhook
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()
    task = RequestTask.objects.get(request=make_request(kind="access", verified=True))
    before = snapshot(propagation)

    # a request task's id on the consent door, and a withdrawal's id on the
    # request door, are both unknown there
    task_id_here = _callback(task.public_id, {"task_id": str(task.public_id)})
    wrong_door = signed_post(
        f"/api/v1/connector-callbacks/{propagation.public_id}/",
        _done(propagation),
        key=KEY,
    )

    assert task_id_here.status_code == 404
    assert wrong_door.status_code == 404
    assert snapshot(propagation) == before


def test_a_retryable_callback_sends_the_job_again(
    ada, choose, crm, webhook, django_capture_on_commit_callbacks
) -> None:
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()

    # when the webhook reports a retryable failure, and has recovered
    webhook.reply = (200, {"status": "done", "changed": 1})
    with django_capture_on_commit_callbacks(execute=True):
        response = _callback(
            propagation.public_id,
            {
                "task_id": str(propagation.public_id),
                "status": "failed",
                "error": "CRM busy",
                "retryable": True,
            },
        )

    # then the job was sent again and succeeded on the second attempt
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    propagation.refresh_from_db()
    assert (propagation.status, propagation.attempts) == ("succeeded", 2)
    assert len(webhook.received) == 2
    assert outcomes(propagation) == ["deferred", "succeeded"]
    assert AuditEvent.objects.filter(
        action="consent.propagation_retry_requested"
    ).exists()


def test_a_final_callback_failure_fails_the_withdrawal(
    ada, choose, crm, webhook
) -> None:
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()

    response = _callback(
        propagation.public_id,
        {
            "task_id": str(propagation.public_id),
            "status": "failed",
            "error": "customer unknown in CRM",
        },
    )

    assert response.status_code == 200, response.json()
    propagation.refresh_from_db()
    assert propagation.status == "failed"
    assert propagation.last_error == "customer unknown in CRM"
    assert AuditEvent.objects.filter(
        action="consent.propagation_failed", actor=f"connector:{crm.public_id}"
    ).exists()


def test_exemptions_are_refused_for_a_withdrawal(ada, choose, crm, webhook) -> None:
    choose(ada, "ai_training", False)
    propagation = ConsentPropagation.objects.get()
    before = snapshot(propagation)

    response = _callback(
        propagation.public_id,
        _done(
            propagation,
            exemptions=[
                {"location": "x", "basis": "GDPR 17(3)(b)", "reason": "tax law"}
            ],
        ),
    )

    assert response.status_code == 400
    assert "exemptions" in response.json()["errors"]
    assert snapshot(propagation) == before


# --- failures of the outbound call ----------------------------------------------------


def test_server_errors_are_retried_then_fail_after_the_last_attempt(
    ada, choose, crm, webhook, settings
) -> None:
    # given a webhook that keeps failing with 503 (and no wait between tries)
    settings.TASK_MAX_ATTEMPTS = 3
    settings.TASK_RETRY_BASE_SECONDS = 0
    webhook.reply = (503, {"error": "maintenance"})

    # when Ada withdraws
    choose(ada, "ai_training", False)

    # then every attempt is recorded and the job ends failed, not done
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert propagation.attempts == 3
    assert "HTTP 503" in propagation.last_error
    assert "maintenance" not in propagation.last_error  # the body is never copied
    assert outcomes(propagation) == ["retry", "retry", "failed"]
    assert len(webhook.received) == 3
    assert AuditEvent.objects.filter(action="consent.propagation_failed").count() == 1
    assert not AuditEvent.objects.filter(
        action="consent.propagation_succeeded"
    ).exists()


def test_a_server_error_is_retried_and_the_next_attempt_succeeds(
    ada, choose, crm, webhook, settings
) -> None:
    settings.TASK_RETRY_BASE_SECONDS = 0
    answers = iter([(500, {}), (200, {"status": "done", "changed": 1})])
    webhook.reply = lambda job: next(answers)

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert (propagation.status, propagation.attempts) == ("succeeded", 2)
    assert outcomes(propagation) == ["retry", "succeeded"]
    first, second = webhook.received
    assert first.json()["task_id"] == second.json()["task_id"]


@pytest.mark.parametrize(("status", "attempts"), [(400, 1), (404, 1), (429, 2)])
def test_client_errors_fail_at_once_except_timeout_and_rate_limit(
    ada, choose, crm, webhook, settings, status, attempts
) -> None:
    settings.TASK_MAX_ATTEMPTS = 2
    settings.TASK_RETRY_BASE_SECONDS = 0
    webhook.reply = (status, {})

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert propagation.attempts == attempts
    assert f"HTTP {status}" in propagation.last_error


def test_an_unreachable_webhook_is_transient(
    ada, choose, officer_actor, purpose, settings
) -> None:
    # given a webhook on a port nobody listens on
    settings.TASK_MAX_ATTEMPTS = 2
    settings.TASK_RETRY_BASE_SECONDS = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    connector = Connector.objects.create(
        name="down",
        kind="http",
        config={"url": f"http://127.0.0.1:{port}/jobs"},
        secrets={"signing_key": KEY},
    )
    purpose_connector_link(
        actor=officer_actor,
        purpose=purpose("ai_training"),
        connector=connector,
        action={},
    )

    choose(ada, "ai_training", False)

    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "failed"
    assert propagation.attempts == 2
    assert "unreachable" in propagation.last_error
    assert outcomes(propagation) == ["retry", "failed"]
