"""POST /api/v1/redact/'s fast path: once the caller is cached, the usual
call is answered without DRF's machinery, with the very bytes, status and
headers DRF answers; anything unusual still goes through DRF.

DRF's answers carry `.data` in the test client, the fast path's do not: that
tells which path answered. An Accept header DRF must negotiate in full
("text/html, application/json;q=0.5") sends the same call through DRF."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from connectors.demo.content import Customer
from masking.models import VaultEntry
from tests.fast_path import NEGOTIATED, answered_by_drf, assert_same_answer
from tests.masking.conftest import PURPOSE

pytestmark = pytest.mark.django_db


def cached(client: APIClient) -> APIClient:
    """`client` once authenticated (a refused call), so its API client record
    is cached."""
    assert client.post("/api/v1/restore/", {}, format="json").status_code in (400, 403)
    return client


def warmed(client: APIClient) -> APIClient:
    """`client` cached and, if it holds masking:use, that scope's first use
    recorded (DRF audits it; the fast path serves only callers past it): a
    message without PII, so nothing is kept."""
    body = {
        "identity": {"email": "warm-up@example.org"},
        "purpose": PURPOSE,
        "conversation_id": "warm-up",
        "text": "Hello",
    }
    assert post(cached(client), body).status_code in (200, 403)
    return client


def post(api: APIClient, body: dict[str, Any], accept: str | None = None) -> Any:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return api.post("/api/v1/redact/", body, format="json", **headers)


def usual_body(person: Customer, conversation: str) -> dict[str, Any]:
    return {
        "identity": {"email": person.email, "customer_ids": {"crm": person.crm_id}},
        "purpose": PURPOSE,
        "conversation_id": conversation,
        "text": (
            f"I'm {person.name}: mail {person.email}, call {person.phone}, "
            "order ORD-482913, card 4111 1111 1111 1111, from 203.0.113.9."
        ),
        "name": person.name,
        "reversible": True,
    }


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_the_usual_call_answers_what_drf_answers_without_drf(
    api: APIClient, maria: Customer, accept: str | None
) -> None:
    warmed(api)

    fast = post(api, usual_body(maria, "conv-fast"), accept)
    slow = post(api, usual_body(maria, "conv-slow"), NEGOTIATED)
    # a later turn, reusing the tokens, on the fast path too
    again = post(api, usual_body(maria, "conv-fast"), accept)

    assert (answered_by_drf(fast), answered_by_drf(slow)) == (False, True)
    assert not answered_by_drf(again)
    assert fast.status_code == slow.status_code == again.status_code == 200
    assert fast.content == slow.content.replace(b"conv-slow", b"conv-fast")
    assert dict(fast.headers) == dict(slow.headers)
    assert fast["Allow"] == "POST, OPTIONS"
    assert again.json()["text"] == fast.json()["text"]
    assert again.json()["stored"] == 0
    assert VaultEntry.objects.count() == 2 * fast.json()["stored"] > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": "x" * 20_001}, "text"),
        ({"conversation_id": ""}, "conversation_id"),
        ({"conversation_id": "c" * 101}, "conversation_id"),
        ({"name": "n" * 201}, "name"),
        ({"purpose": "made_up"}, "purpose"),
        ({"identity": {"email": "not-an-email"}}, "identity.email"),
        ({"identity": {}}, "identity"),
    ],
)
def test_bad_values_get_drfs_400_on_either_path_and_keep_nothing(
    api: APIClient, maria: Customer, change: dict[str, Any], field: str
) -> None:
    warmed(api)
    body = {**usual_body(maria, "conv-1"), **change}

    usual = post(api, body)
    negotiated = post(api, body, NEGOTIATED)

    assert usual.status_code == negotiated.status_code == 400
    assert field in usual.json()["errors"]
    assert_same_answer(usual, negotiated)
    assert VaultEntry.objects.count() == 0


def test_a_value_the_service_refuses_is_answered_on_the_fast_path(
    api: APIClient, maria: Customer
) -> None:
    warmed(api)

    response = post(api, {**usual_body(maria, "conv-1"), "text": "x" * 20_001})

    assert response.status_code == 400
    assert not answered_by_drf(response)
    assert set(response.json()) == {"error", "detail", "errors"}


def test_a_cached_caller_without_the_scope_is_refused_by_drf(
    make_api_client: Any, maria: Customer
) -> None:
    checker = warmed(make_api_client("consent:check")[1])

    refused = post(checker, usual_body(maria, "conv-1"))

    assert refused.status_code == 403
    assert answered_by_drf(refused)
    assert refused.json()["error"] == "permission_denied"
    assert VaultEntry.objects.count() == 0


def test_unusual_calls_go_through_drf(api: APIClient, maria: Customer) -> None:
    warmed(api)
    body = usual_body(maria, "conv-1")

    queried = api.post("/api/v1/redact/?format=json", body, format="json")
    extra_key = post(api, {**body, "colour": "blue"})
    not_json = api.post("/api/v1/redact/", {"text": "x"})  # multipart

    assert queried.status_code == 200
    assert answered_by_drf(queried)
    assert extra_key.status_code == 400
    assert answered_by_drf(extra_key)
    assert "colour" in extra_key.json()["errors"]
    assert not_json.status_code == 415
    assert answered_by_drf(not_json)


def test_the_first_masking_call_of_a_cached_caller_is_audited_once(
    make_api_client: Any, maria: Customer
) -> None:
    """A caller cached by an earlier call (here a refused one) that has never
    masked: its first mask goes through DRF, which audits the scope's first
    use; the next ones take the fast path."""
    client, api = make_api_client("masking:use")
    cached(api)

    first = post(api, usual_body(maria, "conv-1"))
    second = post(api, usual_body(maria, "conv-1"))

    assert first.status_code == second.status_code == 200
    assert (answered_by_drf(first), answered_by_drf(second)) == (True, False)
    events = AuditEvent.objects.filter(action="api_client.scope_first_used")
    assert [event.data["scope"] for event in events] == ["masking:use"]
    client.refresh_from_db()
    assert client.scopes_used == ["masking:use"]
