"""Training fixtures: requests and consent choices through the real services,
run as a worker would at commit, a pipeline's API client, and the README's
recipe for an export index (written out here, not imported, so the
documented recipe itself is what the tests check)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from consent.seed import seed_purposes
from consent.services.events import Recorded, consent_set
from dsr.models import Request
from subjects.models import DataSubject

MARIA = {"email": "Maria.Okafor@Example.org", "phone": "+44 20 7946 0123"}
JAMES = {"email": "james.whitfield@example.com"}


def recipe_index(key: str, kind: str, value: str) -> str:
    """README "Training data": what a pipeline computes over its own data."""
    value = value.strip()
    if kind == "email":
        value = value.lower()
    else:
        digits = re.sub(r"[^\d+]", "", value)
        value = "+" + digits.lstrip("+") if digits.startswith("+") else digits
    message = f"{kind}|{value}".encode()
    return hmac.new(key.encode("ascii"), message, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def purposes(db: Any) -> None:
    seed_purposes()  # a transactional test elsewhere may have flushed them


@pytest.fixture
def verified(
    make_request: Callable[..., Request], django_capture_on_commit_callbacks: Any
) -> Callable[..., Request]:
    """verified(kind, identity): a request entered verified, its commit
    callbacks (planning, the wired tasks) run as a worker would."""

    def make(kind: str = "erasure", identity: dict[str, str] | None = None) -> Request:
        with django_capture_on_commit_callbacks(execute=True):
            return make_request(kind=kind, identity=identity or MARIA, verified=True)

    return make


@pytest.fixture
def choose(django_capture_on_commit_callbacks: Any) -> Callable[..., Recorded]:
    """choose(subject, "ai_training", granted) through the consent service."""

    def record(subject: DataSubject, slug: str, granted: bool) -> Recorded:
        with django_capture_on_commit_callbacks(execute=True):
            return consent_set(
                actor=actor_system("tests"),
                subject=subject,
                purpose=slug,
                granted=granted,
                channel="api",
            )

    return record


@pytest.fixture
def pipeline(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> APIClient:
    """An ML pipeline's client: reads the list, registers datasets."""
    return make_api_client("training:read", "training:write")[1]
