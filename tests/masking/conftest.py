"""Masking fixtures: real Redis for the consent check's cache, the seeded
purposes, an API client holding masking:use, and a customer who allowed AI
processing (and one who refused it)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.actors import actor_system
from connectors.demo.content import Customer, customer
from consent.seed import seed_purposes
from consent.services.events import consent_set
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create
from tests.consent.conftest import redis_caches

PURPOSE = "ai_processing"


@pytest.fixture(autouse=True)
def default_purposes(db: Any) -> None:
    seed_purposes()  # a transactional test elsewhere may have flushed them


@pytest.fixture(autouse=True)
def redis_cache() -> Iterator[None]:
    with override_settings(CACHES=redis_caches(f"t-{uuid.uuid4().hex}")):
        yield


def identity_of(person: Customer) -> dict[str, Any]:
    return {"email": person.email, "customer_ids": {"crm": person.crm_id}}


def consenting(person: Customer, granted: bool, capture: Any) -> DataSubject:
    """`person` as a subject who chose `granted` for AI processing."""
    subject = subject_get_or_create(claims=identity_claims({"email": person.email}))
    with capture(execute=True):
        consent_set(
            actor=actor_system("tests"),
            subject=subject,
            purpose=PURPOSE,
            granted=granted,
            channel="api",
        )
    return subject


@pytest.fixture
def maria(db: Any, django_capture_on_commit_callbacks: Any) -> Customer:
    """A customer who allowed AI processing."""
    person = customer(1, seed=2026)
    consenting(person, True, django_capture_on_commit_callbacks)
    return person


@pytest.fixture
def refuser(db: Any, django_capture_on_commit_callbacks: Any) -> Customer:
    """A customer who withdrew consent to AI processing."""
    person = customer(2, seed=2026)
    consenting(person, False, django_capture_on_commit_callbacks)
    return person


@pytest.fixture
def api(make_api_client: Callable[..., tuple[Any, APIClient]]) -> APIClient:
    return make_api_client("masking:use")[1]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(15)


def redact(api: APIClient, person: Customer, text: str, **extra: Any) -> Any:
    body = {
        "identity": identity_of(person),
        "purpose": PURPOSE,
        "conversation_id": "conv-1",
        "text": text,
        **extra,
    }
    return api.post("/api/v1/redact/", body, format="json")


def restore(api: APIClient, person: Customer, text: str, **extra: Any) -> Any:
    body = {
        "identity": identity_of(person),
        "conversation_id": "conv-1",
        "text": text,
        **extra,
    }
    return api.post("/api/v1/restore/", body, format="json")
