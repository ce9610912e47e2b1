"""The `opendsr` connector kind: identities in the processor's formats, the
request it forwards to a real OpenDSR processor (our own door, under
live_server), signatures checked, and the callbacks it takes."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from accounts.actors import actor_system
from audit.accounts import api_client_create
from connectors.base import ConfigError, ConnectorError, Deferred, Job, Outcome
from connectors.kinds.opendsr import (
    OpenDsrConnector,
    callback_url,
    subject_request_id_for,
)
from connectors.models import Connector
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request, RequestTask
from opendsr.callbacks import signed_json
from opendsr.keys import signing_identity
from privacydesk.identity import Identity
from tests.opendsr.spec_examples import SPEC_6_4_DISCOVERY

EMAIL = "Ada.Lovelace@Example.com"


def _kind(base_url: str = "https://p.example/v1", **config: Any) -> OpenDsrConnector:
    return OpenDsrConnector(
        name="partner",
        config=OpenDsrConnector.validate_config(
            {"base_url": base_url, "processor_domain": "127.0.0.1", **config}
        ),
        secrets={},
    )


def _identity(**customer_ids: tuple[str, ...]) -> Identity:
    return Identity(emails=(EMAIL,), customer_ids=customer_ids)


def test_identities_are_hashed_in_the_format_the_spec_example_lists() -> None:
    # §6.4's example lists email raw and sha256: raw is preferred
    discovery = json.loads(SPEC_6_4_DISCOVERY)
    sent = _kind().identities(_identity(), discovery)
    assert sent == [
        {
            "identity_type": "email",
            "identity_value": "ada.lovelace@example.com",
            "identity_format": "raw",
        }
    ]

    discovery["supported_identities"] = [
        {"identity_type": "email", "identity_format": "sha256"},
        {"identity_type": "ios_advertising_id", "identity_format": "md5"},
    ]
    sent = _kind().identities(_identity(ios_advertising_id=("AAID-1",)), discovery)

    assert sent == [
        {
            "identity_type": "email",
            "identity_value": hashlib.sha256(b"ada.lovelace@example.com").hexdigest(),
            "identity_format": "sha256",
        },
        {
            "identity_type": "ios_advertising_id",
            "identity_value": hashlib.md5(b"AAID-1").hexdigest(),  # noqa: S324
            "identity_format": "md5",
        },
    ]


def test_a_processor_taking_none_of_our_identifiers_is_a_permanent_error() -> None:
    discovery = {
        "supported_identities": [
            {"identity_type": "android_id", "identity_format": "raw"}
        ]
    }

    with pytest.raises(ConnectorError) as failure:
        _kind().identities(_identity(), discovery)

    assert failure.value.permanent
    assert "android_id" in failure.value.message
    assert "ada" not in failure.value.message.lower()


def test_the_subject_request_id_is_a_stable_lowercase_uuid4() -> None:
    task_id = str(uuid.uuid4())

    first, again = subject_request_id_for(task_id), subject_request_id_for(task_id)

    assert first == again == first.lower()
    assert uuid.UUID(first).version == 4
    assert first != subject_request_id_for(str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"base_url": "http://processor.example/v1"}, "config.base_url"),
        ({"base_url": "https://u:p@processor.example/v1"}, "config.base_url"),
        ({"processor_domain": ""}, "config.processor_domain"),
        ({"certificate": "not a pem"}, "config.certificate"),
        ({"group_id": "x"}, "config.group_id"),
    ],
)
def test_a_bad_config_names_its_field(config: dict[str, Any], field: str) -> None:
    base = {"base_url": "https://p.example/v1", "processor_domain": "p.example"}
    with pytest.raises(ConfigError) as failure:
        OpenDsrConnector.validate_config({**base, **config})
    assert failure.value.field == field


def test_a_pinned_certificate_must_be_for_the_processor_domain() -> None:
    pem = signing_identity().certificate_pem.decode()  # issued for 127.0.0.1

    with pytest.raises(ConfigError, match="not issued for p.example"):
        OpenDsrConnector.validate_config(
            {
                "base_url": "https://p.example/v1",
                "processor_domain": "p.example",
                "certificate": pem,
            }
        )


# --- against a real processor: our own door under live_server ---------------


@pytest.fixture
def processor(live_server: Any, settings: Any, transactional_db: Any) -> Any:
    settings.SITE_URL = live_server.url  # our door signs as "localhost"
    signing_identity.cache_clear()
    _, token = api_client_create(
        actor=actor_system("tests"), name="controller", scopes=["opendsr:submit"]
    )
    kind = OpenDsrConnector(
        name="partner",
        config=OpenDsrConnector.validate_config(
            {
                "base_url": f"{live_server.url}/opendsr/v1",
                "processor_domain": "localhost",
            }
        ),
        secrets={"token": token},
    )
    yield kind
    signing_identity.cache_clear()


class _Sink:
    def write(self, record: Any) -> None:
        raise AssertionError("an OpenDSR job writes no records")


def _job(action: str = "erase", **fields: Any) -> Job:
    return Job(
        task_id=str(uuid.uuid4()),
        request_reference="DSR-2026-000001",
        action=action,
        identity=_identity(),
        regime="uk_gdpr",
        received_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        **fields,
    )


def test_an_erasure_is_forwarded_once_and_verified_by_status(
    processor: OpenDsrConnector,
) -> None:
    job = _job()

    answer = processor.run(job, _Sink())
    again = processor.run(job, _Sink())  # a lost answer: sent again

    assert isinstance(answer, Deferred)
    assert isinstance(again, Deferred)
    assert answer.reference == subject_request_id_for(job.task_id)
    assert answer.check_at is not None
    assert answer.receipt is not None
    taken = Request.objects.get()  # one request at the processor
    assert taken.channel == "opendsr"
    assert taken.identity == {"email": "ada.lovelace@example.com"}
    assert taken.regime == "gdpr"
    assert taken.received_at == job.received_at
    verify = _job("verify_erasure", receipt=answer.receipt)
    assert isinstance(processor.run(verify, _Sink()), Deferred)  # in progress
    Request.objects.update(status=RequestStatus.COMPLETED)
    checked = processor.run(verify, _Sink())
    assert isinstance(checked, Outcome)
    assert checked.found == 0
    assert "reports completed" in checked.note
    Request.objects.update(status=RequestStatus.REJECTED)
    with pytest.raises(ConnectorError, match="cancelled"):
        processor.run(verify, _Sink())


def test_an_answer_signed_for_another_domain_is_refused(
    processor: OpenDsrConnector, settings: Any
) -> None:
    settings.OPENDSR_PROCESSOR_DOMAIN = "opendsr.elsewhere.example"
    signing_identity.cache_clear()
    with pytest.raises(ConnectorError) as failure:
        processor.run(_job(), _Sink())
    assert failure.value.permanent
    assert "another domain" in failure.value.message


def test_a_bad_request_is_refused_with_the_processors_message(
    processor: OpenDsrConnector, settings: Any
) -> None:
    settings.OPENDSR_CALLBACK_ALLOW_LOOPBACK = False  # our callback URL is refused
    with pytest.raises(ConnectorError) as failure:
        processor.run(_job(), _Sink())
    assert failure.value.permanent
    assert "HTTP 400" in failure.value.message
    assert "status_callback_urls[0]" in failure.value.message


# --- callbacks: we are the controller ------------------------------------------


@pytest.fixture
def waiting_task(db: Any, make_request: Any) -> RequestTask:
    connector = Connector.objects.create(
        name="partner",
        kind="opendsr",
        config={
            "base_url": "https://p.example/v1",
            "processor_domain": signing_identity().domain,
            "certificate": signing_identity().certificate_pem.decode(),
        },
        enabled=False,
    )
    request = make_request(kind="erasure")
    Request.objects.filter(pk=request.pk).update(status=RequestStatus.IN_PROGRESS)
    return RequestTask.objects.create(
        request=request, connector=connector, action="erase", status="waiting"
    )


def _callback(task: RequestTask, **changes: Any) -> tuple[bytes, dict[str, str]]:
    document = {
        "controller_id": "us",
        "expected_completion_time": "2026-04-01T23:59:59Z",
        "status_callback_url": callback_url(str(task.public_id)),
        "subject_request_id": subject_request_id_for(str(task.public_id)),
        "request_status": "completed",
        **changes,
    }
    return signed_json(document)


def _send(task: RequestTask, body: bytes, headers: dict[str, str]) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return Client().post(
        f"/opendsr/v1/callbacks/{task.public_id}",
        body,
        content_type="application/json",
        **extra,
    )


def test_a_signed_completed_callback_completes_the_task_once(
    waiting_task: RequestTask,
) -> None:
    body, headers = _callback(waiting_task)

    first = _send(waiting_task, body, headers)
    second = _send(waiting_task, body, headers)  # the processor retried

    assert first.status_code == second.status_code == 202
    waiting_task.refresh_from_db()
    assert waiting_task.status == TaskStatus.SUCCEEDED
    assert waiting_task.status_note == "partner reports completed"


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("domain", 401),
        ("signature", 400),
        ("url", 400),
        ("request", 400),
    ],
)
def test_a_callback_that_does_not_check_out_changes_nothing(
    waiting_task: RequestTask, tamper: str, status: int
) -> None:
    changes: dict[str, Any] = {}
    if tamper == "url":
        changes["status_callback_url"] = "https://elsewhere.example/cb"
    if tamper == "request":
        changes["subject_request_id"] = str(uuid.uuid4())
    body, headers = _callback(waiting_task, **changes)
    if tamper == "domain":
        headers = {
            k: "evil.example" if "Domain" in k else v for k, v in headers.items()
        }
    if tamper == "signature":
        body = body.replace(b"completed", b"cancelled")

    response = _send(waiting_task, body, headers)

    assert response.status_code == status
    waiting_task.refresh_from_db()
    assert waiting_task.status == TaskStatus.WAITING


def test_a_cancelled_callback_fails_the_task_and_unknown_tasks_are_404(
    waiting_task: RequestTask,
) -> None:
    body, headers = _callback(waiting_task, request_status="cancelled")

    assert _send(waiting_task, body, headers).status_code == 202
    waiting_task.refresh_from_db()
    assert waiting_task.status == TaskStatus.FAILED
    assert "cancelled" in waiting_task.last_error
    unknown = Client().post(
        f"/opendsr/v1/callbacks/{uuid.uuid4()}", body, content_type="application/json"
    )
    assert unknown.status_code == 404
