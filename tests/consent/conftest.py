"""Consent fixtures: a real Redis cache per test, subjects, and a helper to record.

Every consent test runs against real Redis (the check's cache is part of
what is tested). Each test gets its own key prefix, so parallel workers and
earlier tests never see each other's entries and nothing needs flushing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings

from accounts.actors import Actor, actor_system
from consent.models import Purpose
from consent.seed import seed_purposes
from consent.services.events import Recorded, consent_set
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create


def redis_location() -> str:
    # Database 9 unless TEST_REDIS_DB_BASE moves it (two suites sharing one
    # Redis each pass their own base, as for tests/integration).
    number = int(os.environ.get("TEST_REDIS_DB_BASE") or 9)
    base = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(base._replace(path=f"/{number}"))


def redis_caches(prefix: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "privacydesk.cache.RedisCache",
            "LOCATION": redis_location(),
            "KEY_PREFIX": prefix,
        }
    }


@pytest.fixture(autouse=True)
def default_purposes(db: Any) -> None:
    # Migration 0002 seeds them, but a transactional test anywhere in the
    # suite flushes every table and --reuse-db keeps the flushed database.
    seed_purposes()


@pytest.fixture(autouse=True)
def redis_cache() -> Iterator[None]:
    with override_settings(CACHES=redis_caches(f"t-{uuid.uuid4().hex}")):
        yield


@pytest.fixture
def tester() -> Actor:
    return actor_system("tests")


@pytest.fixture
def ada(db: Any) -> DataSubject:
    return subject_get_or_create(claims=identity_claims({"email": "ada@example.com"}))


@pytest.fixture
def purpose(db: Any) -> Callable[[str], Purpose]:
    def get(slug: str) -> Purpose:
        return Purpose.objects.get(slug=slug)

    return get


@pytest.fixture
def choose(
    tester: Actor, django_capture_on_commit_callbacks: Any
) -> Callable[..., Recorded]:
    """choose(subject, "ai_training", True) through the real service, committed
    as far as the test transaction allows (cache invalidation runs)."""

    def record(
        subject: DataSubject, slug: str, granted: bool, **kwargs: Any
    ) -> Recorded:
        kwargs.setdefault("channel", "api")
        with django_capture_on_commit_callbacks(execute=True):
            return consent_set(
                actor=tester, subject=subject, purpose=slug, granted=granted, **kwargs
            )

    return record
