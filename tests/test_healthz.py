"""GET /healthz: 200 when the database and the broker answer, 503 otherwise.

Celery reads the broker URL once, when it first loads its configuration, so
`override_settings(CELERY_BROKER_URL=...)` would not reach it; the tests point
the app's own configuration at a broker instead. Both real brokers are
checked: the embedded SQLite one (the default, needs nothing running) and
Redis, which production uses and CI starts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from privacydesk import health
from privacydesk.celery import app as celery_app

REDIS_BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Port 1 (tcpmux) is closed on any machine we run on: connecting is refused.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_broker(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def point_at(url: str) -> None:
        # Celery lets CELERY_BROKER_URL in the environment win over its config.
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
        monkeypatch.setitem(celery_app.conf, "broker_url", url)

    return point_at


def _get(client: Client) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = client.get("/healthz")
    return response.status_code, response.json(), time.monotonic() - started


def test_healthz_ok_with_the_embedded_broker(
    client: Client, use_broker: Callable[[str], None], tmp_path: Path
) -> None:
    # given the embedded mode's SQLite-backed broker
    use_broker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")

    # when
    status, body, _ = _get(client)

    # then
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"


def test_healthz_ok_with_redis(
    client: Client, use_broker: Callable[[str], None]
) -> None:
    use_broker(REDIS_BROKER)

    status, body, _ = _get(client)

    assert status == 200, body
    assert body["database"]["status"] == "ok"
    assert body["broker"] == {"status": "ok", "detail": body["broker"]["detail"]}


def test_healthz_503_fast_when_the_broker_is_unreachable(
    client: Client, use_broker: Callable[[str], None]
) -> None:
    use_broker(UNREACHABLE_BROKER)

    status, body, elapsed = _get(client)

    assert status == 503
    assert body["status"] == "error"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "down"
    # A load balancer probing every few seconds must not pile up requests.
    assert elapsed < 5, f"health check took {elapsed:.1f}s"


def test_healthz_503_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)

    status, body, _ = _get(client)

    assert status == 503
    assert body["database"] == {"status": "down", "detail": "OperationalError"}
    assert body["broker"]["status"] == "ok"


def test_healthz_is_never_cached(client: Client) -> None:
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]
