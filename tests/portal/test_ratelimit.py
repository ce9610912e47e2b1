"""Submissions are rate-limited per client, keyed on a hash of the address."""

from __future__ import annotations

from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from dsr.models import Request
from portal.ratelimit import rate_limit_hit
from tests.portal.conftest import form_data


@override_settings(PORTAL_SUBMISSIONS_PER_HOUR=3)
def test_submissions_over_the_hourly_limit_get_a_friendly_429(client: Client, db):
    # given three submissions from one address
    for n in range(3):
        response = client.post(
            reverse("portal:new"), form_data(email=f"person{n}@example.com")
        )
        assert response.status_code == 302

    # when a fourth comes within the hour
    response = client.post(reverse("portal:new"), form_data(email="late@example.com"))

    # then it is refused kindly, and nothing is recorded or sent
    assert response.status_code == 429
    assert "Please wait a little" in response.content.decode()
    assert response["Retry-After"] == "3600"
    assert Request.objects.count() == 3
    assert len(mail.outbox) == 3


@override_settings(PORTAL_SUBMISSIONS_PER_HOUR=1)
def test_another_address_has_its_own_limit(db):
    # given one client at its limit
    first = Client(REMOTE_ADDR="198.51.100.1")
    first.post(reverse("portal:new"), form_data())

    # when another client submits
    response = Client(REMOTE_ADDR="198.51.100.2").post(
        reverse("portal:new"), form_data(email="grace@example.com")
    )

    # then it is not limited
    assert response.status_code == 302
    assert first.post(reverse("portal:new"), form_data()).status_code == 429


def test_the_limiter_never_stores_the_address(db):
    # when
    allowed = rate_limit_hit(scope="submit", client="203.0.113.77", limit=5)

    # then
    assert allowed is True
    keys = list(cache._cache.keys())  # LocMemCache internals, for this check only
    assert keys
    assert not any("203.0.113.77" in key for key in keys)


def test_the_limiter_allows_exactly_the_limit(db):
    # when
    results = [rate_limit_hit(scope="t", client="192.0.2.9", limit=2) for _ in range(3)]

    # then
    assert results == [True, True, False]
