"""Shared fixtures: staff in each role, API clients with scopes, requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts.actors import Actor, actor_for_user, actor_system
from accounts.choices import Role
from accounts.models import ApiClient
from accounts.services import api_client_create, staff_set_role
from dsr.models import Request
from dsr.services.requests import request_create


def _staff(username: str, role: Role) -> User:
    user = User.objects.create_user(
        username=username, password="pw-for-tests-123", is_staff=True
    )
    staff_set_role(user=user, role=role)
    return user


@pytest.fixture
def officer(db: Any) -> User:
    return _staff("olivia.officer", Role.PRIVACY_OFFICER)


@pytest.fixture
def agent(db: Any) -> User:
    return _staff("sam.agent", Role.SUPPORT_AGENT)


@pytest.fixture
def auditor(db: Any) -> User:
    return _staff("aud.itor", Role.AUDITOR)


@pytest.fixture
def officer_actor(officer: User) -> Actor:
    return actor_for_user(officer)


@pytest.fixture
def system_actor() -> Actor:
    return actor_system("tests")


@pytest.fixture
def make_api_client(db: Any) -> Callable[..., tuple[ApiClient, APIClient]]:
    """make_api_client("requests:read", ...) -> (ApiClient row, DRF test client)."""
    counter = iter(range(1, 10_000))

    def make(*scopes: str) -> tuple[ApiClient, APIClient]:
        client, token = api_client_create(
            actor=actor_system("tests"),
            name=f"client-{next(counter)}",
            scopes=list(scopes),
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http

    return make


@pytest.fixture
def make_request(db: Any) -> Callable[..., Request]:
    """make_request(kind="access", verified=True, ...) via the real service."""

    def make(**overrides: Any) -> Request:
        params: dict[str, Any] = {
            "actor": actor_system("tests"),
            "kind": "access",
            "regime": "gdpr",
            "channel": "api",
            "identity": {"email": "ada.lovelace@example.com"},
        }
        params.update(overrides)
        return request_create(**params)

    return make
