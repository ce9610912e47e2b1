"""Status callbacks (spec §8.5-8.6) delivered to a controller on loopback:
one per URL and state change, signed, retried, never redirected."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from connectors import opendsr_protocol as protocol
from dsr.models import Request
from dsr.services.requests import request_approve, request_close, request_reject
from opendsr.choices import DeliveryStatus
from opendsr.keys import signing_identity
from opendsr.models import CallbackDelivery
from opendsr.services import opendsr_status_changed
from tests.conftest import Webhook
from tests.opendsr.conftest import BASE, opendsr_body, post
from tests.opendsr.spec_examples import SPEC_8_7_CALLBACK

pytestmark = pytest.mark.django_db

Controller = tuple[ApiClient, APIClient]


def _verified(received: Any) -> dict[str, Any]:
    protocol.signature_verify(
        signing_identity().certificate,
        received.body,
        received.headers[protocol.SIGNATURE_HEADER],
    )
    assert received.headers[protocol.DOMAIN_HEADER] == signing_identity().domain
    return json.loads(received.body)


def _submit(
    http: APIClient, urls: list[str], capture: Any, **overrides: Any
) -> tuple[dict[str, Any], Request]:
    body = opendsr_body(status_callback_urls=urls, **overrides)
    with capture(execute=True):
        assert post(http, body).status_code == 201
    return body, Request.objects.get()


def test_each_state_change_reaches_every_url_signed(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.REQUESTS_REQUIRE_APPROVAL = True
    _, http = controller
    urls = [webhook.url, webhook.url.replace("/privacy/jobs", "/second")]
    body, request = _submit(http, urls, django_capture_on_commit_callbacks)
    assert webhook.received == []  # pending: nothing changed yet

    with django_capture_on_commit_callbacks(execute=True):
        request_approve(actor=actor_system("tests"), request=request)
    with django_capture_on_commit_callbacks(execute=True):
        request_close(
            actor=actor_system("tests"),
            request=Request.objects.get(),
            outcome="completed",
        )

    sent = [(r.path, _verified(r)) for r in webhook.received]
    assert [(path, doc["request_status"]) for path, doc in sent] == [
        ("/privacy/jobs", "in_progress"),
        ("/second", "in_progress"),
        ("/privacy/jobs", "completed"),
        ("/second", "completed"),
    ]
    example = set(json.loads(SPEC_8_7_CALLBACK)) - {"results_url", "results_count"}
    for path, document in sent:
        assert example <= set(document)
        assert document["status_callback_url"].endswith(path)
        assert document["subject_request_id"] == body["subject_request_id"]
        assert "ada.lovelace" not in json.dumps(document)
    assert set(CallbackDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }


def test_a_status_told_once_is_not_told_again(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, http = controller
    _, request = _submit(http, [webhook.url], django_capture_on_commit_callbacks)
    assert len(webhook.received) == 1  # in_progress at once

    with django_capture_on_commit_callbacks(execute=True):
        opendsr_status_changed(request_id=request.pk)

    assert len(webhook.received) == 1


def test_a_rejection_is_told_as_cancelled(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, http = controller
    _, request = _submit(http, [webhook.url], django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        request_reject(
            actor=actor_system("tests"), request=request, reason="not our customer"
        )

    assert [_verified(r)["request_status"] for r in webhook.received] == [
        "in_progress",
        "cancelled",
    ]


def test_a_failing_callback_is_retried_until_it_is_taken(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    answers = iter([(503, {}), (500, {}), (202, {})])
    webhook.reply = lambda _: next(answers)
    _, http = controller

    _submit(http, [webhook.url], django_capture_on_commit_callbacks)

    assert len(webhook.received) == 3
    delivery = CallbackDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    assert delivery.last_status_code == 202


def test_a_callback_that_keeps_failing_stops_after_the_attempts_allowed(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.OPENDSR_CALLBACK_MAX_ATTEMPTS = 4
    webhook.reply = (500, {})
    _, http = controller

    _submit(http, [webhook.url], django_capture_on_commit_callbacks)

    assert len(webhook.received) == 4
    delivery = CallbackDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    assert delivery.last_error == "answered HTTP 500"


def test_a_redirect_is_not_followed_nor_retried(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    webhook.reply = (302, {})
    _, http = controller

    _submit(http, [webhook.url], django_capture_on_commit_callbacks)

    assert len(webhook.received) == 1
    delivery = CallbackDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "redirects are not followed" in delivery.last_error


def test_loopback_callbacks_are_refused_where_not_allowed(
    controller: Controller,
    webhook: Webhook,
    settings: Any,
) -> None:
    settings.OPENDSR_CALLBACK_ALLOW_LOOPBACK = False
    _, http = controller

    response = post(http, opendsr_body(status_callback_urls=[webhook.url]))

    assert response.status_code == 400
    assert json.loads(response.content)["error"]["errors"][0]["location"] == (
        "status_callback_urls[0]"
    )
    assert not Request.objects.exists()


def test_status_endpoint_agrees_with_the_last_callback(
    controller: Controller,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
    make_api_client: Callable[..., Any],
) -> None:
    _, http = controller
    body, _ = _submit(http, [webhook.url], django_capture_on_commit_callbacks)

    status = json.loads(
        http.get(f"{BASE}/requests/{body['subject_request_id']}").content
    )

    assert _verified(webhook.received[-1])["request_status"] == status["request_status"]
