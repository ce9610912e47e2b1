"""The `http` kind against a real webhook server on 127.0.0.1 (the `webhook`
fixture of tests/conftest.py): signed jobs, synchronous and deferred results,
signed callbacks, retries and refusals. The callback rules every kind of job
shares (signatures, replays, the job's own id) are tested in
tests/connectors/test_jobkit.py."""

from __future__ import annotations

import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.files.storage import default_storage

from audit.models import AuditEvent
from connectors.base import ConfigError
from connectors.kinds.http import HttpConnector
from connectors.models import Connector
from connectors.signing import (
    SignatureRejected,
    signature_headers,
    signature_verify,
)
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution.running import task_run
from tests.conftest import Webhook, sign, signed_post, webhook_connector

pytestmark = pytest.mark.django_db

KEY = "whsec-test-0123456789abcdef"
EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def connector(webhook: Webhook) -> Connector:
    return webhook_connector(webhook, key=KEY)


def _task(request: Request) -> RequestTask:
    return RequestTask.objects.select_related("request").get(request=request)


def _callback(task: RequestTask, payload: dict[str, Any]) -> Any:
    url = f"/api/v1/connector-callbacks/{task.public_id}/"
    return signed_post(url, payload, key=KEY)


# --- signatures ------------------------------------------------------------------


def test_signature_verifies_and_refuses_a_changed_body_key_or_time() -> None:
    # given a body signed now
    body = b'{"task_id": "x"}'
    headers = signature_headers(key=KEY, body=body)
    timestamp = headers["X-PrivacyDesk-Timestamp"]
    signature = headers["X-PrivacyDesk-Signature"]

    # then it verifies, and equals an HMAC computed independently
    signature_verify(key=KEY, timestamp=timestamp, signature=signature, body=body)
    assert signature == sign(body, int(timestamp), KEY)
    # and any change is refused
    with pytest.raises(SignatureRejected, match="does not match"):
        signature_verify(
            key=KEY, timestamp=timestamp, signature=signature, body=body + b" "
        )
    with pytest.raises(SignatureRejected, match="does not match"):
        signature_verify(
            key=KEY + "x", timestamp=timestamp, signature=signature, body=body
        )
    with pytest.raises(SignatureRejected, match="does not match"):
        signature_verify(
            key=KEY, timestamp=str(int(timestamp) + 1), signature=signature, body=body
        )
    with pytest.raises(SignatureRejected, match="required"):
        signature_verify(key=KEY, timestamp=timestamp, signature=None, body=body)


def test_signature_older_or_newer_than_five_minutes_is_refused() -> None:
    body = b"{}"
    now = time.time()
    for skew in (-301, 301):
        headers = signature_headers(key=KEY, body=body, now=now + skew)
        with pytest.raises(SignatureRejected, match="300 seconds"):
            signature_verify(
                key=KEY,
                timestamp=headers["X-PrivacyDesk-Timestamp"],
                signature=headers["X-PrivacyDesk-Signature"],
                body=body,
                now=now,
            )
    # just inside the window is fine
    headers = signature_headers(key=KEY, body=body, now=now - 299)
    signature_verify(
        key=KEY,
        timestamp=headers["X-PrivacyDesk-Timestamp"],
        signature=headers["X-PrivacyDesk-Signature"],
        body=body,
        now=now,
    )


# --- the outbound job --------------------------------------------------------------


def test_job_is_posted_signed_with_the_identity_in_the_body_not_the_url(
    webhook, connector, make_request
) -> None:
    # given a verified access request and a webhook that accepts the job
    request = make_request(kind="access", verified=True)
    task = _task(request)

    # when the executor runs the task
    assert task_run(task_id=task.pk) == "deferred"

    # then one signed POST went out, the identity in its body only
    (job,) = webhook.received
    assert EMAIL not in job.path
    assert "ada" not in job.path.lower()
    assert job.path == "/privacy/jobs"
    timestamp = int(job.headers["X-PrivacyDesk-Timestamp"])
    assert abs(timestamp - time.time()) < 60
    assert job.headers["X-PrivacyDesk-Signature"] == sign(job.body, timestamp, KEY)
    document = job.json()
    assert document["identity"]["emails"] == [EMAIL]
    assert document["task_id"] == str(task.public_id)
    assert document["request_reference"] == request.reference
    assert document["action"] == "access"
    assert document["changes"] == {}
    assert document["callback_url"].endswith(
        f"/api/v1/connector-callbacks/{task.public_id}/"
    )
    assert EMAIL not in document["callback_url"]


def test_synchronous_result_completes_the_task_and_stores_access_records(
    webhook, connector, make_request
) -> None:
    # given a webhook that answers at once with two records
    records = [
        {"location": "contacts", "key": "17", "data": {"email": EMAIL}},
        {
            "location": "tickets",
            "key": 4,
            "data": {"subject": "Where is my order?"},
            "category": "support_ticket",
        },
    ]
    webhook.reply = (200, {"status": "done", "found": 2, "records": records})
    request = make_request(kind="access", verified=True)
    task = _task(request)

    # when the task runs
    assert task_run(task_id=task.pk) == "succeeded"

    # then the task holds the counts and a digest of the stored records
    task.refresh_from_db()
    assert task.status == "succeeded"
    assert task.records_found == 2
    assert task.per_location == {
        "contacts": {"found": 1, "changed": 0},
        "tickets": {"found": 1, "changed": 0},
    }
    with default_storage.open(task.result_file) as stored:
        content = stored.read()
    assert task.result_digest == hashlib.sha256(content).hexdigest()
    lines = [json.loads(line) for line in content.decode().splitlines()]
    assert [line["location"] for line in lines] == ["contacts", "tickets"]
    assert lines[1]["key"] == "4"
    assert lines[1]["category"] == "support_ticket"


def test_synchronous_erasure_result_closes_the_request(
    webhook, connector, make_request
) -> None:
    # given a webhook that only erases (no verification pass), answering at once
    connector.config = {**connector.config, "actions": ["erase"]}
    connector.save()
    webhook.reply = (200, {"status": "done", "found": 3, "changed": 3})
    request = make_request(kind="erasure", verified=True)

    # when the task runs
    assert task_run(task_id=_task(request).pk) == "succeeded"

    # then the request is complete
    request.refresh_from_db()
    assert request.status == "completed"
    assert _task(request).records_changed == 3


def test_accepted_job_waits_and_a_signed_callback_completes_it(
    webhook, connector, make_request
) -> None:
    # given a webhook that accepts erasures and answers later
    connector.config = {**connector.config, "actions": ["erase"]}
    connector.save()
    webhook.reply = (202, {"reference": "crm-job-88"})
    request = make_request(kind="erasure", verified=True)
    task = _task(request)
    assert task_run(task_id=task.pk) == "deferred"
    task.refresh_from_db()
    assert task.status == "waiting"
    assert task.deferred_reference == "crm-job-88"

    # when the webhook calls back, signed
    response = _callback(
        task,
        {"task_id": str(task.public_id), "status": "done", "found": 2, "changed": 2},
    )

    # then the task succeeded and the request closed
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "succeeded"
    task.refresh_from_db()
    assert task.status == "succeeded"
    assert (task.records_found, task.records_changed) == (2, 2)
    request.refresh_from_db()
    assert request.status == "completed"
    assert AuditEvent.objects.filter(
        action="task.succeeded", actor=f"connector:{connector.public_id}"
    ).exists()


def test_access_callback_stores_records_and_sets_the_digest(
    webhook, connector, make_request
) -> None:
    request = make_request(kind="access", verified=True)
    task = _task(request)
    task_run(task_id=task.pk)

    response = _callback(
        task,
        {
            "task_id": str(task.public_id),
            "status": "done",
            "records": [
                {"location": "crm.contacts", "key": "c-1", "data": {"email": EMAIL}},
            ],
            "exemptions": [
                {
                    "location": "crm.invoices",
                    "fields": ["billing_name"],
                    "basis": "GDPR 17(3)(b)",
                    "reason": "kept ten years under tax law",
                    "count": 4,
                }
            ],
        },
    )

    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.status == "succeeded"
    assert task.records_found == 1
    assert task.exemptions[0]["basis"] == "GDPR 17(3)(b)"
    with default_storage.open(task.result_file) as stored:
        content = stored.read()
    assert task.result_digest == hashlib.sha256(content).hexdigest()
    assert json.loads(content)["data"] == {"email": EMAIL}
    assert response.json()["result_digest"] == task.result_digest


def test_callback_failure_fails_the_task_or_sends_it_again(
    webhook, connector, make_request
) -> None:
    # given two waiting jobs
    connector.config = {**connector.config, "actions": ["erase"]}
    connector.save()
    final = _task(make_request(kind="erasure", verified=True))
    retry = _task(
        make_request(
            kind="erasure", verified=True, identity={"email": "grace@example.com"}
        )
    )
    task_run(task_id=final.pk)
    task_run(task_id=retry.pk)

    # when one reports a permanent and the other a retryable failure
    fail = _callback(
        final,
        {"task_id": str(final.public_id), "status": "failed", "error": "no access"},
    )
    again = _callback(
        retry,
        {
            "task_id": str(retry.public_id),
            "status": "failed",
            "error": "CRM busy",
            "retryable": True,
        },
    )

    # then the first fails for good, the second is queued to be sent again
    assert fail.status_code == 200
    final.refresh_from_db()
    assert final.status == "failed"
    assert final.last_error == "no access"
    final.request.refresh_from_db()
    assert final.request.status == "failed"
    assert again.status_code == 200
    retry.refresh_from_db()
    assert retry.status == "pending"
    assert retry.last_error == "CRM busy"
    assert retry.next_attempt_at is not None
    # and the executor sends it again
    webhook.reply = (200, {"status": "done", "found": 1, "changed": 1})
    assert task_run(task_id=retry.pk) == "succeeded"
    retry.refresh_from_db()
    assert retry.attempts == 2
    assert len(webhook.received) == 3


# --- failures of the outbound call -------------------------------------------


def test_server_error_is_transient_and_the_task_is_retried(
    webhook, connector, make_request
) -> None:
    # given a webhook failing with 500
    webhook.reply = (500, {"error": "boom"})
    request = make_request(kind="access", verified=True)
    task = _task(request)

    # when the task runs
    outcome = task_run(task_id=task.pk)

    # then it is queued again with a back-off, the attempt recorded
    assert outcome == "retry"
    task.refresh_from_db()
    assert task.status == "pending"
    assert task.attempts == 1
    assert "HTTP 500" in task.last_error
    assert task.next_attempt_at is not None
    (attempt,) = TaskAttempt.objects.filter(task=task)
    assert attempt.outcome == "retry"
    assert "500" in attempt.error
    # and once the webhook recovers, the next attempt succeeds
    webhook.reply = (200, {"status": "done", "records": []})
    assert task_run(task_id=task.pk) == "succeeded"
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("succeeded", 2)


def test_server_errors_fail_the_task_after_the_last_attempt(
    webhook, connector, make_request
) -> None:
    webhook.reply = (503, {})
    task = _task(make_request(kind="access", verified=True))
    RequestTask.objects.filter(pk=task.pk).update(max_attempts=2)

    assert task_run(task_id=task.pk) == "retry"
    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert task.status == "failed"
    assert task.attempts == 2
    task.request.refresh_from_db()
    assert task.request.status == "failed"
    assert "503" in task.request.status_reason


def test_client_error_fails_the_task_at_once(webhook, connector, make_request) -> None:
    # given a webhook refusing the job as malformed
    webhook.reply = (400, {"error": "unknown action"})
    request = make_request(kind="access", verified=True)
    task = _task(request)

    # when the task runs, it fails on the first attempt
    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert task.status == "failed"
    assert task.attempts == 1
    assert "refused the job with HTTP 400" in task.last_error
    assert "unknown action" not in task.last_error  # the body is never copied
    request.refresh_from_db()
    assert request.status == "failed"


@pytest.mark.parametrize("status", [408, 429])
def test_timeout_and_rate_limit_answers_are_transient(
    webhook, connector, make_request, status
) -> None:
    webhook.reply = (status, {})
    task = _task(make_request(kind="access", verified=True))

    assert task_run(task_id=task.pk) == "retry"
    task.refresh_from_db()
    assert task.status == "pending"


def test_redirect_is_not_followed(webhook, connector, make_request) -> None:
    # The job holds an identity: it goes only where the staff pointed it.
    webhook.reply = (302, {})
    task = _task(make_request(kind="access", verified=True))

    assert task_run(task_id=task.pk) == "failed"
    assert len(webhook.received) == 1
    task.refresh_from_db()
    assert "redirects are not followed" in task.last_error


def test_unreachable_webhook_is_transient(make_request) -> None:
    # given a webhook on a port nobody listens on
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    Connector.objects.create(
        name="down",
        kind="http",
        config={"url": f"http://127.0.0.1:{port}/jobs"},
        secrets={"signing_key": KEY},
    )
    task = _task(make_request(kind="access", verified=True))

    assert task_run(task_id=task.pk) == "retry"
    task.refresh_from_db()
    assert "unreachable" in task.last_error


def test_slow_webhook_times_out_and_is_retried(
    webhook, connector, make_request
) -> None:
    webhook.hang = True
    connector.config = {**connector.config, "timeout_seconds": 0.3}
    connector.save()
    task = _task(make_request(kind="access", verified=True))

    assert task_run(task_id=task.pk) == "retry"
    task.refresh_from_db()
    assert "unreachable" in task.last_error


def test_invalid_synchronous_result_is_retried_naming_the_field(
    webhook, connector, make_request
) -> None:
    webhook.reply = (200, {"status": "done", "records": [{"key": "1", "data": {}}]})
    task = _task(make_request(kind="access", verified=True))

    assert task_run(task_id=task.pk) == "retry"
    task.refresh_from_db()
    assert "records[0].location" in task.last_error


# --- configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field_path"),
    [
        ({}, "config.url"),
        ({"url": "http://crm.example.com/jobs"}, "config.url"),
        ({"url": "ftp://crm.example.com/jobs"}, "config.url"),
        ({"url": "https://user:pw@crm.example.com/jobs"}, "config.url"),
        (
            {"url": "https://crm.example.com", "timeout_seconds": 0},
            "config.timeout_seconds",
        ),
        (
            {"url": "https://crm.example.com", "actions": ["access", "x"]},
            "config.actions[1]",
        ),
        ({"url": "https://crm.example.com", "retries": 3}, "config.retries"),
    ],
)
def test_bad_config_is_refused_naming_its_path(config, field_path) -> None:
    with pytest.raises(ConfigError) as error:
        HttpConnector.validate_config(config)
    assert error.value.field == field_path


def test_good_config_is_cleaned() -> None:
    assert HttpConnector.validate_config(
        {"url": "https://crm.example.com/dsr", "actions": ["erase", "access"]}
    ) == {
        "url": "https://crm.example.com/dsr",
        "timeout_seconds": 10,
        "actions": ["access", "erase"],
    }
    assert HttpConnector.validate_config({"url": "http://127.0.0.1:9000/dsr"})["url"]


def test_signing_key_is_required_and_long_enough() -> None:
    assert HttpConnector.validate_secrets({"signing_key": KEY}) == {"signing_key": KEY}
    for secrets in (None, {}, {"signing_key": "short"}):
        with pytest.raises(ConfigError) as error:
            HttpConnector.validate_secrets(secrets)
        assert error.value.field == "secrets.signing_key"


def test_only_configured_actions_are_planned(webhook, connector, make_request) -> None:
    # given a webhook that can erase but not access
    connector.config = {**connector.config, "actions": ["erase"]}
    connector.save()

    request = make_request(kind="access", verified=True)

    assert not RequestTask.objects.filter(request=request).exists()
