"""Alert tests: a weekday in working hours (so only the rule under test can
fire), and a way to run the rules as beat does."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from alerts.models import Alert
from alerts.services import Evaluation, alerts_evaluate

LONDON = ZoneInfo("Europe/London")
# A Wednesday, 11:00 in London: inside the default working hours.
WORKDAY = datetime(2026, 3, 11, 11, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _workday(time_machine: Any) -> None:
    time_machine.move_to(WORKDAY, tick=False)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # The portal's rate-limit counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def evaluate(db: Any) -> Callable[[], Evaluation]:
    """Run the rules once, as the beat task does."""
    return alerts_evaluate


@pytest.fixture
def rules() -> Callable[..., Iterator[None]]:
    """rules(bulk_download={"threshold": 2}): ALERT_RULES with some values
    changed, as a context manager."""

    def change(**changes: dict[str, Any]) -> Any:
        configured = copy.deepcopy(settings.ALERT_RULES)
        for name, values in changes.items():
            configured[name] = {**configured[name], **values}
        return override_settings(ALERT_RULES=configured)

    return change


def alerts_of(rule: str) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule).order_by("pk"))
