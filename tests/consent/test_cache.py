"""The check's cache against real Redis: fast, but never a stale answer."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.services import api_client_revoke
from consent.cache import Lookup
from consent.models import ConsentState
from consent.selectors import consent_check
from privacydesk import crypto
from privacydesk.errors import ValidationFailed

pytestmark = pytest.mark.django_db
ADA = {"email": "ada@example.com"}


def _index(email: str = "ada@example.com") -> str:
    return crypto.blind_index("email", email)


def test_an_answer_read_before_a_change_but_stored_after_it_is_never_served(
    ada, choose, tester
):
    # given a reader that took its tokens and read "granted" from the database
    choose(ada, "ai_training", True)
    reader = Lookup("ai_training", [_index()]).fetch()
    reader.ensure_tokens()
    stale = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert stale["state"] == "granted"

    # when a withdrawal commits, and only then the slow reader stores its answer
    choose(ada, "ai_training", False)
    reader.store_answer(stale, 300)

    # then the stale answer is not used
    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["state"] == "withdrawn"


def test_a_lost_token_retires_the_answers_made_under_it(ada, choose, tester):
    choose(ada, "ai_training", True)
    consent_check(actor=tester, identity=ADA, purpose="ai_training")
    cache.delete(f"consent:gen:i:{_index()}")  # evicted, or expired
    # a change behind the cache's back (only possible here, in a test)
    ConsentState.objects.filter(subject=ada).update(state="withdrawn")

    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")

    assert answer["state"] == "withdrawn"


def test_the_check_works_from_the_database_when_redis_is_down(ada, choose, tester):
    choose(ada, "ai_training", True)
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    with override_settings(CACHES=down):
        answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")

    assert answer["allowed"] is True


def test_the_api_answers_when_redis_is_down(make_api_client):
    _, http = make_api_client("consent:check")
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    with override_settings(CACHES=down):
        response = http.post(
            "/api/v1/consent/check/",
            {"identity": ADA, "purpose": "analytics"},
            format="json",
        )

    assert response.status_code == 200
    assert response.json()["state"] == "default"


def test_made_up_purposes_leave_nothing_in_redis(tester):
    with pytest.raises(ValidationFailed):
        consent_check(actor=tester, identity=ADA, purpose="telepathy")

    assert cache.get("consent:gen:p:telepathy") is None


def test_a_revoked_token_is_refused_at_once_although_it_was_cached(make_api_client):
    client, http = make_api_client("consent:check")
    assert http.get("/api/v1/consent/ping/").status_code == 200  # now cached

    api_client_revoke(actor=actor_system("tests"), client=client)

    assert http.get("/api/v1/consent/ping/").status_code == 401


def _check_over_http(http, **body):
    return http.post("/api/v1/consent/check/", body, format="json")


def test_a_cached_check_makes_one_cache_round_trip_with_its_token(
    make_api_client, monkeypatch
):
    _, http = make_api_client("consent:check")
    _check_over_http(http, identity=ADA, purpose="analytics")  # fills the caches
    calls = []
    real_fetch = Lookup.fetch

    def counting_fetch(self, **kwargs):
        calls.append(kwargs)
        return real_fetch(self, **kwargs)

    monkeypatch.setattr(Lookup, "fetch", counting_fetch)
    monkeypatch.setattr(
        RedisCache, "get", lambda *a, **k: pytest.fail("a second round trip")
    )

    response = _check_over_http(http, identity=ADA, purpose="analytics")

    assert response.json()["state"] == "default"
    assert len(calls) == 1
    assert calls[0]["extra"]  # the token rode along


def test_the_check_refuses_a_revoked_token_although_both_were_cached(
    make_api_client,
):
    client, http = make_api_client("consent:check")
    assert _check_over_http(http, identity=ADA, purpose="analytics").status_code == 200

    api_client_revoke(actor=actor_system("tests"), client=client)

    response = _check_over_http(http, identity=ADA, purpose="analytics")
    assert response.status_code == 401


def test_odd_bodies_take_the_ordinary_path(make_api_client):
    _, http = make_api_client("consent:check")

    broken = http.post(
        "/api/v1/consent/check/", "{not json", content_type="application/json"
    )
    extra = _check_over_http(http, identity=ADA, purpose="analytics", colour="red")
    anonymous = APIClient().post(
        "/api/v1/consent/check/", {"identity": ADA, "purpose": "x"}, format="json"
    )

    assert broken.status_code == 400
    assert extra.status_code == 400
    assert "colour" in extra.json()["errors"]
    assert anonymous.status_code == 401
