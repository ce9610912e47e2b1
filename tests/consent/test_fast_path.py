"""POST /api/v1/consent/check/'s fast path (consent.api.fast_path): once the
caller is cached and past its first use of the scope, the usual call is
answered without DRF's machinery, with the very bytes, status and headers
DRF answers; anything unusual still goes through DRF.

DRF's answers carry `.data` in the test client, the fast path's do not: that
tells which path answered. An Accept header DRF must negotiate in full sends
the same call through DRF."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from subjects.models import DataSubject
from tests.fast_path import NEGOTIATED, answered_by_drf, assert_same_answer

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/consent/check/"


def check(api: APIClient, body: dict[str, Any], accept: str | None = None) -> Any:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return api.post(CHECK, body, format="json", **headers)


def body(email: str, purpose: str = "ai_processing") -> dict[str, Any]:
    return {"identity": {"email": email}, "purpose": purpose}


@pytest.fixture
def checker(make_api_client: Any) -> APIClient:
    """A client holding consent:check, its first use made (and audited by
    DRF), so its cached record lists the scope as used."""
    _, api = make_api_client("consent:check")
    assert check(api, body("warm-up@example.org")).status_code == 200
    return api


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
@pytest.mark.parametrize("granted", [True, False, None])
def test_the_usual_call_answers_what_drf_answers_without_drf(
    checker: APIClient,
    ada: DataSubject,
    choose: Any,
    accept: str | None,
    granted: bool | None,
) -> None:
    if granted is not None:
        choose(ada, "ai_processing", granted)

    fast = check(checker, body("ada@example.com"), accept)
    slow = check(checker, body("ada@example.com"), NEGOTIATED)
    cached = check(checker, body("ada@example.com"), accept)  # from the cache

    assert (answered_by_drf(fast), answered_by_drf(slow)) == (False, True)
    assert not answered_by_drf(cached)
    assert fast.status_code == slow.status_code == cached.status_code == 200
    assert fast.content == slow.content == cached.content
    assert dict(fast.headers) == dict(slow.headers) == dict(cached.headers)
    assert fast.json()["allowed"] is bool(granted)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "made_up"}, "purpose"),
        ({"identity": {"email": "not-an-email"}}, "identity.email"),
        ({"identity": {}}, "identity"),
    ],
)
def test_bad_values_get_drfs_400_on_either_path(
    checker: APIClient, change: dict[str, Any], field: str
) -> None:
    sent = {**body("ada@example.com"), **change}

    usual = check(checker, sent)
    negotiated = check(checker, sent, NEGOTIATED)

    assert usual.status_code == negotiated.status_code == 400
    assert field in usual.json()["errors"]
    assert_same_answer(usual, negotiated)


def test_an_unknown_purpose_is_refused_on_the_fast_path(checker: APIClient) -> None:
    refused = check(checker, body("ada@example.com", "made_up"))

    assert refused.status_code == 400
    assert not answered_by_drf(refused)
    assert refused.json()["errors"] == {"purpose": ["unknown purpose"]}


def test_a_cached_caller_without_the_scope_is_refused_by_drf(
    make_api_client: Any,
) -> None:
    _, masker = make_api_client("masking:use")
    assert check(masker, body("ada@example.com")).status_code == 403  # now cached

    refused = check(masker, body("ada@example.com"))

    assert refused.status_code == 403
    assert answered_by_drf(refused)
    assert refused.json()["error"] == "permission_denied"


def test_unusual_calls_go_through_drf(checker: APIClient) -> None:
    queried = checker.post(f"{CHECK}?format=json", body("a@example.com"), format="json")
    extra_key = check(checker, {**body("a@example.com"), "colour": "blue"})
    not_json = checker.post(CHECK, {"purpose": "x"})  # multipart

    assert queried.status_code == 200
    assert answered_by_drf(queried)
    assert answered_by_drf(extra_key)
    assert not_json.status_code == 415
    assert answered_by_drf(not_json)


def test_the_first_check_is_audited_once_then_the_fast_path_answers(
    make_api_client: Any,
) -> None:
    client, api = make_api_client("consent:check")

    first = check(api, body("ada@example.com"))
    second = check(api, body("ada@example.com"))

    assert first.status_code == second.status_code == 200
    assert (answered_by_drf(first), answered_by_drf(second)) == (True, False)
    events = AuditEvent.objects.filter(action="api_client.scope_first_used")
    assert [event.data["scope"] for event in events] == ["consent:check"]
