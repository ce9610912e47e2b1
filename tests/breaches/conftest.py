"""Breaches recorded through the real services, at a frozen time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accounts.actors import Actor
from breaches.models import Breach
from breaches.services.register import breach_create
from tests.dashboard.conftest import (  # noqa: F401 - fixtures
    agent_client,
    auditor_client,
    officer_client,
)

# A Friday afternoon: the 72 hours run over the weekend.
FRIDAY_5PM = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Each test stores its evidence packs in a folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def at(time_machine: Any) -> Callable[[datetime], None]:
    """at(moment): the clock stands at `moment` (and ticks on from there)."""

    def move(moment: datetime) -> None:
        time_machine.move_to(moment, tick=False)

    return move


@pytest.fixture
def make_breach(
    officer_actor: Actor, at: Callable[[datetime], None]
) -> Callable[..., Breach]:
    """make_breach(**fields): recorded at `recorded_at`, by default on Friday
    at 18:00, an hour after the default awareness."""

    def make(
        *,
        aware_at: Any = FRIDAY_5PM,
        recorded_at: datetime = FRIDAY_5PM + timedelta(hours=1),
        **fields: Any,
    ) -> Breach:
        at(recorded_at)
        values: dict[str, Any] = {
            "title": "Chat transcripts exposed by a misconfigured bucket",
            "aware_at": aware_at,
            "description": "A storage bucket holding chat transcripts was public.",
        }
        values.update(fields)
        return breach_create(actor=officer_actor, **values)

    return make
