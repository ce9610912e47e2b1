"""An access request's results_url once its package exists, and the
signing key embedded mode makes on first use."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiClient
from connectors import opendsr_protocol as protocol
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.models import Connector
from dsr.choices import RequestStatus
from dsr.models import Request
from opendsr import keys
from tests.conftest import Webhook
from tests.disclosure import DISCLOSURE
from tests.opendsr.conftest import BASE, opendsr_body, post, verified_json


@pytest.mark.django_db
def test_a_completed_access_request_gives_a_results_url_and_count(
    controller: tuple[ApiClient, APIClient],
    tmp_path: Path,
    webhook: Webhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    store = tmp_path / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=3, tickets_per_customer=2))
    Connector.objects.create(
        name="helpdesk",
        kind="sql",
        config={"dsn": f"sqlite:///{store}", "tables": SQL_CONNECTOR_TABLES},
        data_categories=["contact"],
        disclosure=DISCLOSURE,
    )
    email = customer(1).email
    body = opendsr_body(
        subject_request_type="access",
        subject_identities=[
            {
                "identity_type": "email",
                "identity_value": email,
                "identity_format": "raw",
            }
        ],
        status_callback_urls=[webhook.url],
    )
    _, http = controller

    with django_capture_on_commit_callbacks(execute=True):
        assert post(http, body).status_code == 201

    assert Request.objects.get().status == RequestStatus.COMPLETED
    status = verified_json(http.get(f"{BASE}/requests/{body['subject_request_id']}"))
    assert status["request_status"] == "completed"
    assert status["results_count"] > 0
    assert "/privacy/package/" in status["results_url"]
    # the page asks the subject for a fresh code before any download
    page = Client().get(urlsplit(status["results_url"]).path)
    assert page.status_code == 200
    assert email not in status["results_url"]
    last = json.loads(webhook.received[-1].body)
    assert last["request_status"] == "completed"
    # the same signed link, made perhaps a second apart (value:stamp:signature)
    assert (
        last["results_url"].rsplit(":", 2)[0] == status["results_url"].rsplit(":", 2)[0]
    )


@pytest.fixture
def fresh_keys(settings: Any, tmp_path: Path) -> Any:
    settings.VAR_DIR = tmp_path
    keys.signing_identity.cache_clear()
    yield settings
    keys.signing_identity.cache_clear()


def test_embedded_mode_makes_a_key_once_and_keeps_it(fresh_keys: Any) -> None:
    first = keys.signing_identity()
    keys.signing_identity.cache_clear()
    second = keys.signing_identity()

    folder = Path(fresh_keys.VAR_DIR) / "opendsr" / "signing" / "127.0.0.1"
    key_file = folder / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.certificate_pem == second.certificate_pem
    body = b'{"request_status":"pending"}'
    protocol.signature_verify(second.certificate, body, first.sign(body))
    with pytest.raises(protocol.SignatureInvalid):
        protocol.signature_verify(second.certificate, body + b" ", first.sign(body))


def test_production_without_key_files_refuses_to_sign(fresh_keys: Any) -> None:
    fresh_keys.EMBEDDED = False

    with pytest.raises(ImproperlyConfigured, match="OPENDSR_SIGNING_KEY_FILE"):
        keys.signing_identity()


def test_an_unconfigured_production_door_answers_503_not_a_crash(
    fresh_keys: Any,
) -> None:
    fresh_keys.EMBEDDED = False

    answer = Client().get(f"{BASE}/discovery")

    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == (
        "OpenDSR is not configured on this server"
    )
    assert "OPENDSR_SIGNING_KEY_FILE" not in answer.content.decode()


def test_configured_files_are_used_and_must_match(
    fresh_keys: Any, tmp_path: Path
) -> None:
    made = keys.signing_identity()  # a pair to configure
    folder = Path(fresh_keys.VAR_DIR) / "opendsr" / "signing" / "127.0.0.1"
    fresh_keys.EMBEDDED = False
    fresh_keys.OPENDSR_SIGNING_KEY_FILE = str(folder / "signing-key.pem")
    fresh_keys.OPENDSR_CERTIFICATE_FILE = str(folder / "certificate.pem")
    fresh_keys.OPENDSR_PROCESSOR_DOMAIN = "opendsr.example.com"
    keys.signing_identity.cache_clear()

    loaded = keys.signing_identity()

    assert loaded.certificate_pem == made.certificate_pem
    assert loaded.domain == "opendsr.example.com"
    other = tmp_path / "other"
    fresh_keys.VAR_DIR = other
    fresh_keys.EMBEDDED = True
    fresh_keys.OPENDSR_SIGNING_KEY_FILE = ""
    fresh_keys.OPENDSR_CERTIFICATE_FILE = ""
    fresh_keys.OPENDSR_PROCESSOR_DOMAIN = ""
    keys.signing_identity.cache_clear()
    keys.signing_identity()
    # another key with the first certificate
    fresh_keys.OPENDSR_SIGNING_KEY_FILE = str(
        other / "opendsr/signing/127.0.0.1/signing-key.pem"
    )
    fresh_keys.OPENDSR_CERTIFICATE_FILE = str(folder / "certificate.pem")
    keys.signing_identity.cache_clear()
    with pytest.raises(ImproperlyConfigured, match="not for its key"):
        keys.signing_identity()
