"""The check's cache against real Redis: fast, but never a stale answer."""

from __future__ import annotations

import json
import socket

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from rest_framework.parsers import JSONParser
from rest_framework.test import APIClient

from accounts.actors import actor_system
from audit.accounts import api_client_revoke
from consent import cache as cache_module
from consent.cache import Lookup
from consent.models import ConsentState
from consent.selectors import consent_check
from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create

pytestmark = pytest.mark.django_db
ADA = {"email": "ada@example.com"}


def _index(email: str = "ada@example.com") -> str:
    return crypto.blind_index("email", email)


def _token_key(email: str = "ada@example.com") -> str:
    return f"consent:gen:i:{_index(email)}"


def _read_as_a_check_would(lookup: Lookup) -> dict:
    """What a check that took `lookup`'s tokens reads from the database."""
    return consent_check(actor=actor_system("tests"), identity=ADA, purpose=lookup.slug)


def test_the_fetch_creates_missing_tokens_before_the_database_is_read(ada, choose):
    # when a reader looks up an identifier nobody asked about yet
    reader = Lookup("ai_training", [_index()]).fetch()

    # then its token exists in Redis already, with the value the reader holds
    assert reader.tokens[_token_key()] is not None
    assert cache.get(_token_key()) == reader.tokens[_token_key()]


def test_an_answer_read_before_a_change_but_stored_after_it_is_never_served(
    ada, choose, tester
):
    # given a reader that took its tokens (one round trip, nothing more) and
    # then read "granted" from the database
    choose(ada, "ai_training", True)
    reader = Lookup("ai_training", [_index()]).fetch()
    stale = _read_as_a_check_would(reader)
    assert stale["state"] == "granted"

    # when a withdrawal commits, and only then the slow reader stores its answer
    choose(ada, "ai_training", False)
    reader.store_answer(stale, 300)

    # then the stale answer is not used
    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["state"] == "withdrawn"


def test_a_change_whose_token_is_evicted_before_a_slow_reader_stores_stays_seen(
    ada, choose, tester
):
    # given a reader that took its tokens and read "granted"
    choose(ada, "ai_training", True)
    reader = Lookup("ai_training", [_index()]).fetch()
    stale = _read_as_a_check_would(reader)

    # when a withdrawal commits, Redis evicts the token it set, and only then
    # the slow reader stores its answer
    choose(ada, "ai_training", False)
    cache.delete(_token_key())
    reader.store_answer(stale, 300)

    # then the next check makes a fresh token and reads the database again
    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["state"] == "withdrawn"
    assert cache.get(_token_key()) not in (None, reader.tokens[_token_key()])


def test_a_lost_token_retires_the_answers_made_under_it(ada, choose, tester):
    choose(ada, "ai_training", True)
    consent_check(actor=tester, identity=ADA, purpose="ai_training")
    cache.delete(_token_key())  # evicted, or expired
    # a change behind the cache's back (only possible here, in a test)
    ConsentState.objects.filter(subject=ada).update(state="withdrawn")

    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")

    assert answer["state"] == "withdrawn"


def test_the_check_works_from_the_database_when_redis_is_down(ada, choose, tester):
    choose(ada, "ai_training", True)
    down = {
        "default": {
            "BACKEND": "privacydesk.cache.RedisCache",
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
            "BACKEND": "privacydesk.cache.RedisCache",
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


def test_made_up_purposes_asked_through_the_api_leave_nothing_in_redis(
    make_api_client,
):
    _, http = make_api_client("consent:check")
    _check_over_http(http, identity=ADA, purpose="analytics")  # caches the client
    bob = {"email": "bob@example.com"}

    response = _check_over_http(http, identity=bob, purpose="telepathy")

    assert response.status_code == 400
    assert cache.get("consent:gen:p:telepathy") is None
    assert cache.get(_token_key("bob@example.com")) is None


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


def test_bodies_are_read_as_drf_reads_them(make_api_client, choose):
    # given a grant for an address outside ASCII
    umlaut = "ada@bücher.example"
    choose(
        subject_get_or_create(claims=identity_claims({"email": umlaut})),
        "analytics",
        True,
    )
    _, http = make_api_client("consent:check")
    body = {"identity": {"email": umlaut}, "purpose": "analytics"}
    latin = json.dumps(body, ensure_ascii=False).encode("latin-1")

    # when it is asked about in latin-1, and in a media type that is not JSON
    declared = http.post(
        "/api/v1/consent/check/",
        latin,
        content_type="application/json; charset=latin-1",
    )
    plain = http.post(
        "/api/v1/consent/check/", json.dumps(body), content_type="text/plain"
    )

    # then the answer is about that person, and the other body is refused
    assert declared.json()["state"] == "granted"
    assert plain.status_code == 415


def test_a_plain_check_body_is_parsed_once(make_api_client, monkeypatch):
    _, http = make_api_client("consent:check")
    _check_over_http(http, identity=ADA, purpose="analytics")  # caches the client
    monkeypatch.setattr(
        JSONParser, "parse", lambda *a, **k: pytest.fail("parsed a second time")
    )

    response = _check_over_http(http, identity=ADA, purpose="ai_training")

    assert response.json()["state"] == "default"


def test_a_request_with_an_unknown_token_creates_nothing_in_redis(make_api_client):
    # given a client whose record is cached (its token is known)
    _, http = make_api_client("consent:check")
    assert _check_over_http(http, identity=ADA, purpose="analytics").status_code == 200
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer pd_not-a-token-we-issued")
    bob = {"email": "bob@example.com"}

    # when someone without a valid token asks about another identity
    response = stranger.post(
        "/api/v1/consent/check/",
        {"identity": bob, "purpose": "analytics"},
        format="json",
    )

    # then they are refused and no token was created for that identity
    assert response.status_code == 401
    assert cache.get(_token_key("bob@example.com")) is None


def test_a_miss_through_the_api_takes_its_tokens_in_the_fetch(
    make_api_client, monkeypatch
):
    # given a client whose record is cached
    _, http = make_api_client("consent:check")
    _check_over_http(http, identity=ADA, purpose="analytics")
    monkeypatch.setattr(
        Lookup, "_ensure_pipelined", lambda *a: pytest.fail("a token round trip")
    )

    # when it asks about an identity nobody asked about yet
    bob = {"email": "bob@example.com"}
    response = _check_over_http(http, identity=bob, purpose="analytics")

    # then the fetch made its token, and the answer was cached under it
    assert response.json()["state"] == "default"
    again = Lookup("analytics", [_index("bob@example.com")]).fetch()
    assert again.answer == response.json()


def test_the_cache_connection_recovers_after_it_breaks(
    ada, choose, tester, django_assert_num_queries
):
    # given a cached answer, and the check's own Redis connection broken
    choose(ada, "ai_training", True)
    consent_check(actor=tester, identity=ADA, purpose="ai_training")
    redis = cache_module._redis()
    redis._local.connection._sock.shutdown(socket.SHUT_RDWR)

    # when the agent asks twice more
    first = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    with django_assert_num_queries(0):
        second = consent_check(actor=tester, identity=ADA, purpose="ai_training")

    # then the first comes from the database, the second from Redis again
    assert first["state"] == second["state"] == "granted"


def test_a_write_whose_reply_is_not_awaited_never_answers_the_next_command():
    redis = cache_module._redis()
    key, other = cache.make_key("helper:a"), cache.make_key("helper:b")
    cache.set("helper:b", 42)

    redis.send("SET", key, "1", "EX", 60)
    redis.send("SET", key)  # wrong arity: an error reply, read later
    redis.send("SET", key, "2", "EX", 60)

    assert redis.call("GET", other) == b"42"
    assert redis.call("GET", key) == b"2"
