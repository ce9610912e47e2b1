"""A controller calling our OpenDSR door: its token, its bodies, our key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiClient
from connectors import opendsr_protocol as protocol
from opendsr.keys import signing_identity

BASE = "/opendsr/v1"


@pytest.fixture
def controller(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> tuple[ApiClient, APIClient]:
    return make_api_client("opendsr:submit")


def opendsr_body(**overrides: Any) -> dict[str, Any]:
    """A valid request body (the README sample's shape, fresh ids)."""
    body: dict[str, Any] = {
        "subject_request_id": str(uuid.uuid4()),
        "regulation": "gdpr",
        "subject_request_type": "erasure",
        "submitted_time": "2026-01-05T10:00:00Z",
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": "ada.lovelace@example.com",
                "identity_format": "raw",
            }
        ],
        "api_version": "2.0",
    }
    body.update(overrides)
    return body


def post_raw(http: APIClient, body: bytes, prefix: str = "requests") -> Any:
    return http.generic(
        "POST", f"{BASE}/{prefix}", body, content_type="application/json"
    )


def post(http: APIClient, document: dict[str, Any], prefix: str = "requests") -> Any:
    return post_raw(http, json.dumps(document).encode(), prefix)


def verified_json(response: Any) -> dict[str, Any]:
    """The body, after checking its signature with our certificate."""
    signature = response.headers[protocol.SIGNATURE_HEADER]
    protocol.signature_verify(
        signing_identity().certificate, response.content, signature
    )
    assert response.headers[protocol.DOMAIN_HEADER] == signing_identity().domain
    return json.loads(response.content)
