"""Logged-in browsers for the dashboard, one per staff role."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    return _client_for(officer)


@pytest.fixture
def agent_client(agent: User) -> Client:
    return _client_for(agent)


@pytest.fixture
def auditor_client(auditor: User) -> Client:
    return _client_for(auditor)


@pytest.fixture
def no_role_user(db: Any) -> User:
    return User.objects.create_user(username="nora.norole", password="pw-for-tests-123")
