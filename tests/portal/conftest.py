"""Portal fixtures: a clean rate-limit cache and a helper that files a request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from dsr.models import Request

CODE = re.compile(r"Your code: (\d{6})")


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "access",
        "residence": "eu",
        "email": "ada.lovelace@example.com",
        "phone": "",
        "correction": "",
        "details": "",
    }
    data.update(overrides)
    return data


def last_code() -> str:
    match = CODE.search(mail.outbox[-1].body)
    assert match, "no code in the last e-mail"
    return match.group(1)


@pytest.fixture
def submit(client: Client, db: Any) -> Callable[..., tuple[Any, Request]]:
    """submit(**form overrides) -> (followed response, the created Request)."""

    def _submit(**overrides: str) -> tuple[Any, Request]:
        response = client.post(
            reverse("portal:new"), form_data(**overrides), follow=True
        )
        assert response.status_code == 200
        return response, Request.objects.latest("pk")

    return _submit
