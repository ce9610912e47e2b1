"""The OpenDSR door as a controller calls it: discovery, submit, status,
cancel, the error object, OpenGDPR 1.0's names, signatures checked with
our published certificate."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiClient
from audit.models import AuditEvent
from connectors import opendsr_protocol as protocol
from dsr.choices import Channel, RequestKind, RequestStatus
from dsr.models import Request
from opendsr.models import OpenDsrRequest
from tests.opendsr.conftest import BASE, opendsr_body, post, post_raw, verified_json
from tests.opendsr.spec_examples import (
    README_SAMPLE_REQUEST,
    SPEC_6_4_DISCOVERY,
    SPEC_7_2_REQUEST,
    SPEC_7_7_ERROR,
    SPEC_8_4_STATUS,
)

pytestmark = pytest.mark.django_db

Controller = tuple[ApiClient, APIClient]


def _error(response: Any) -> dict[str, Any]:
    """The §7.6 error object of a refusal (same keys as the §7.7 example)."""
    document = verified_json(response)
    example = json.loads(SPEC_7_7_ERROR)
    assert set(document) == set(example)
    assert set(example["error"]) <= set(document["error"])
    assert document["error"]["code"] == response.status_code
    for detail in document["error"]["errors"]:
        assert {"domain", "reason", "message"} <= set(detail)
    return document["error"]


def test_discovery_is_public_signed_and_shaped_like_the_spec_example() -> None:
    response = Client().get(f"{BASE}/discovery")

    assert response.status_code == 200
    document = verified_json(response)
    assert set(document) == set(json.loads(SPEC_6_4_DISCOVERY))
    assert document["api_version"] == "2.0"
    assert {"identity_type": "email", "identity_format": "raw"} in document[
        "supported_identities"
    ]
    # hashed identities are refused, so discovery does not list them
    assert {i["identity_format"] for i in document["supported_identities"]} == {"raw"}
    assert document["supported_subject_request_types"] == [
        "access",
        "portability",
        "erasure",
    ]
    # the certificate it names is the one that verifies our signatures
    pem = Client().get(urlsplit(document["processor_certificate"]).path).content
    protocol.signature_verify(
        protocol.certificate_load(pem),
        response.content,
        response.headers[protocol.SIGNATURE_HEADER],
    )


def test_the_readme_sample_request_is_taken_in_with_a_201_receipt(
    controller: Controller,
) -> None:
    client, http = controller

    response = post_raw(http, README_SAMPLE_REQUEST)

    assert response.status_code == 201, response.content
    receipt = verified_json(response)
    assert set(receipt) == {
        "controller_id",
        "expected_completion_time",
        "received_time",
        "encoded_request",
        "subject_request_id",
    }
    # the exact bytes received, whitespace and all
    assert base64.b64decode(receipt["encoded_request"]) == README_SAMPLE_REQUEST
    assert receipt["subject_request_id"] == "a7551968-d5d6-44b2-9831-815ac9017798"
    assert receipt["controller_id"] == str(client.public_id)
    item = OpenDsrRequest.objects.get(client=client)
    request = item.request
    assert request.channel == Channel.OPENDSR
    assert request.kind == RequestKind.ERASURE
    assert request.identity == {"email": "johndoe@example.com"}
    assert request.verified_at is not None
    # the legal clock runs from when the subject asked the controller
    assert request.received_at == datetime(2018, 10, 2, 15, 0, tzinfo=UTC)
    assert receipt["expected_completion_time"].startswith(
        request.due_on.isoformat()[:8]
    )
    assert item.callback_urls == ["https://example-controller.com/opendsr/callbacks"]
    assert AuditEvent.objects.filter(action="request.opendsr_received").count() == 1


def test_the_spec_7_2_example_is_refused_as_invalid_json(
    controller: Controller,
) -> None:
    _, http = controller

    response = post_raw(http, SPEC_7_2_REQUEST)

    assert response.status_code == 400
    error = _error(response)
    assert error["errors"][0]["location"] == "body"
    assert not Request.objects.exists()


def test_the_spec_7_2_example_made_valid_json_is_refused_for_lacking_regulation(
    controller: Controller,
) -> None:
    _, http = controller
    fixed = SPEC_7_2_REQUEST.replace(b'"123456",\n', b'"123456"\n')
    json.loads(fixed)  # valid now

    response = post_raw(http, fixed)

    assert response.status_code == 400
    assert _error(response)["errors"][0]["location"] == "regulation"
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"subject_request_id": "A7551968-D5D6-44B2-9831-815AC9017798"},
            "subject_request_id",
        ),
        (
            {"subject_request_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
            "subject_request_id",
        ),
        ({"subject_request_type": "rectification"}, "subject_request_type"),
        ({"regulation": "lgpd"}, "regulation"),
        ({"submitted_time": "2018-10-02"}, "submitted_time"),
        ({"submitted_time": "2999-01-01T00:00:00Z"}, "submitted_time"),
        ({"subject_identities": []}, "subject_identities"),
        ({"api_version": "3.0"}, "api_version"),
        (
            {"status_callback_urls": ["http://controller.example/cb"]},
            "status_callback_urls[0]",
        ),
        ({"status_callback_urls": ["https://10.0.0.8/cb"]}, "status_callback_urls[0]"),
        ({"group_id": "x"}, "group_id"),
        (
            {
                "subject_identities": [
                    {
                        "identity_type": "email",
                        "identity_value": "0f2c" * 16,
                        "identity_format": "sha256",
                    }
                ]
            },
            "subject_identities[0].identity_format",
        ),
        (
            {
                "subject_identities": [
                    {
                        "identity_type": "email",
                        "identity_value": "not-an-address",
                        "identity_format": "raw",
                    }
                ]
            },
            "subject_identities[0].identity_value",
        ),
        (
            {
                "subject_identities": [
                    {
                        "identity_type": "passport",
                        "identity_value": "X1",
                        "identity_format": "raw",
                    }
                ]
            },
            "subject_identities[0].identity_type",
        ),
    ],
)
def test_a_bad_field_is_a_400_naming_it_without_its_value(
    controller: Controller, change: dict[str, Any], field: str
) -> None:
    _, http = controller
    body = opendsr_body(**change)

    response = post(http, body)

    assert response.status_code == 400
    error = _error(response)
    assert error["errors"][0]["location"] == field
    assert "not-an-address" not in response.content.decode()
    assert not Request.objects.exists()


def test_a_device_id_becomes_a_customer_id_named_after_its_type(
    controller: Controller,
) -> None:
    _, http = controller
    body = opendsr_body(
        subject_identities=[
            {
                "identity_type": "ios_advertising_id",
                "identity_value": "6d92078a-8246-4ba4-ae5b-76104861e7dc",
                "identity_format": "raw",
            }
        ]
    )

    assert post(http, body).status_code == 201

    request = Request.objects.get()
    assert request.identity == {
        "customer_ids": {"ios_advertising_id": "6d92078a-8246-4ba4-ae5b-76104861e7dc"}
    }


def test_the_same_request_sent_twice_is_one_request(controller: Controller) -> None:
    _, http = controller
    body = json.dumps(opendsr_body()).encode()

    first = post_raw(http, body)
    second = post_raw(http, body)

    assert first.status_code == second.status_code == 201
    assert verified_json(first) == verified_json(second)
    assert Request.objects.count() == 1


def test_a_used_id_with_another_body_is_refused(controller: Controller) -> None:
    _, http = controller
    body = opendsr_body()
    post(http, body)

    response = post(http, {**body, "subject_request_type": "access"})

    assert response.status_code == 400
    assert _error(response)["errors"][0]["location"] == "subject_request_id"
    assert Request.objects.count() == 1


def test_two_controllers_may_use_the_same_id(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> None:
    body = opendsr_body()
    for _ in range(2):
        _, http = make_api_client("opendsr:submit")
        assert post(http, body).status_code == 201

    assert Request.objects.count() == 2


def test_status_is_signed_and_shaped_like_the_spec_example(
    controller: Controller,
) -> None:
    _, http = controller
    body = opendsr_body()
    post(http, body)

    response = http.get(f"{BASE}/requests/{body['subject_request_id']}")

    assert response.status_code == 200
    document = verified_json(response)
    required = set(json.loads(SPEC_8_4_STATUS)) - {"results_url", "results_count"}
    assert required <= set(document)
    assert document["subject_request_id"] == body["subject_request_id"]
    # entered verified and started (the work runs after commit)
    assert document["request_status"] == "in_progress"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (RequestStatus.RECEIVED, "pending"),
        (RequestStatus.VERIFIED, "pending"),
        (RequestStatus.IN_PROGRESS, "in_progress"),
        (RequestStatus.COMPLETED, "completed"),
        (RequestStatus.PARTIALLY_COMPLETED, "cancelled"),
        (RequestStatus.FAILED, "cancelled"),
        (RequestStatus.REJECTED, "cancelled"),
        (RequestStatus.CANCELLED, "cancelled"),
    ],
)
def test_our_lifecycle_in_opendsr_words(
    controller: Controller, ours: str, theirs: str
) -> None:
    _, http = controller
    body = opendsr_body()
    post(http, body)
    Request.objects.update(status=ours)

    document = verified_json(http.get(f"{BASE}/requests/{body['subject_request_id']}"))

    assert document["request_status"] == theirs


def test_another_controllers_request_is_not_found(
    controller: Controller,
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> None:
    _, http = controller
    body = opendsr_body()
    post(http, body)
    _, other = make_api_client("opendsr:submit")
    url = f"{BASE}/requests/{body['subject_request_id']}"

    assert other.get(url).status_code == 404
    deleted = other.delete(url)

    assert deleted.status_code == 404
    assert _error(deleted)["code"] == 404
    assert Request.objects.get().status == RequestStatus.IN_PROGRESS


def test_a_token_without_the_scope_is_refused_and_nothing_is_written(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> None:
    _, http = make_api_client("requests:write", "requests:verify")

    response = post(http, opendsr_body())

    assert response.status_code == 403
    assert _error(response)["code"] == 403
    assert not Request.objects.exists()
    no_token = post(APIClient(), opendsr_body())
    assert no_token.status_code == 401
    assert "WWW-Authenticate" in no_token.headers


def test_cancel_while_pending_then_again(controller: Controller, settings: Any) -> None:
    settings.REQUESTS_REQUIRE_APPROVAL = True  # verified, awaiting approval
    _, http = controller
    body = opendsr_body()
    post(http, body)
    url = f"{BASE}/requests/{body['subject_request_id']}"
    assert verified_json(http.get(url))["request_status"] == "pending"

    response = http.delete(url)

    assert response.status_code == 202
    receipt = verified_json(response)
    assert set(receipt) == {
        "controller_id",
        "received_time",
        "subject_request_id",
        "api_version",
    }
    assert Request.objects.get().status == RequestStatus.CANCELLED
    assert verified_json(http.get(url))["request_status"] == "cancelled"
    again = http.delete(url)
    assert again.status_code == 202
    assert verified_json(again) == receipt


def test_cancel_once_in_progress_is_the_400_error_object(
    controller: Controller,
) -> None:
    _, http = controller
    body = opendsr_body()
    post(http, body)

    response = http.delete(f"{BASE}/requests/{body['subject_request_id']}")

    assert response.status_code == 400
    assert "in_progress" in _error(response)["message"]
    assert Request.objects.get().status == RequestStatus.IN_PROGRESS


def test_opengdpr_names_still_work(controller: Controller) -> None:
    _, http = controller
    body = opendsr_body(api_version="1.0", regulation="ccpa")

    created = post(http, body, prefix="opengdpr_requests")
    status = http.get(f"{BASE}/opengdpr_requests/{body['subject_request_id']}")

    assert created.status_code == 201
    assert status.status_code == 200
    for response in (created, status):
        assert (
            response.headers[protocol.LEGACY_SIGNATURE_HEADER]
            == response.headers[protocol.SIGNATURE_HEADER]
        )
        assert response.headers[protocol.LEGACY_DOMAIN_HEADER]
    assert Request.objects.get().regime == "ccpa"


def test_unknown_id_and_malformed_id_are_404(controller: Controller) -> None:
    _, http = controller

    for value in (str(uuid.uuid4()), "not-a-uuid"):
        response = http.get(f"{BASE}/requests/{value}")
        assert response.status_code == 404
        _error(response)
