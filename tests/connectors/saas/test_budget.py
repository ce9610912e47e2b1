"""The rate budget's window is a setting read when a budget is made (5 s in
production, shorter in the rate tests), its pacing follows that window, and
a stand-in states its times as finely as its time step."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest

from connectors.kinds.saas.budget import Budget
from standins.zendesk import StandIn
from standins.zendesk.state import AGENT_EMAIL
from tests.connectors.saas.conftest import TOKEN
from tests.standin_fixtures import WINDOW, short_window


class FakeTime:
    """A clock that moves only when the budget sleeps."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_window_is_the_setting_read_when_a_budget_is_made(settings) -> None:
    assert settings.SAAS_BUDGET_WINDOW_MS == 5000  # production's default
    assert Budget("window-test", per_minute=120).window == 5.0
    assert Budget("window-test", per_minute=120).allowance == 10

    settings.SAAS_BUDGET_WINDOW_MS = 500
    short = Budget("window-test", per_minute=1200)

    assert short.window == 0.5
    assert short.allowance == 10  # the same share of the minute per window
    assert Budget("window-test", per_minute=60, window_seconds=2.0).window == 2.0


@pytest.mark.parametrize("window_ms", [5000, 500])
def test_a_full_window_waits_for_the_next_one(settings, window_ms: int) -> None:
    settings.SAAS_BUDGET_WINDOW_MS = window_ms
    window = window_ms / 1000
    start = 1_000_000 * window  # the start of a window
    fake = FakeTime(start)
    budget = Budget(
        f"pacing-test-{window_ms}",
        per_minute=round(2 * 60 / window),  # 2 calls a window
        sleep=fake.sleep,
        clock=fake.clock,
    )

    for _ in range(5):
        budget.take()

    # two in the first window, two in the second, the fifth in the third;
    # each wait ends in the next window, less than a fifth of a window in
    assert len(fake.slept) == 2
    assert 2 * window <= fake.now - start < 2.2 * window


def _get(standin: StandIn) -> urllib.error.HTTPError | None:
    auth = base64.b64encode(f"{AGENT_EMAIL}/token:{TOKEN}".encode()).decode()
    request = urllib.request.Request(
        f"{standin.url}/api/v2/users/me.json",
        headers={"Authorization": f"Basic {auth}"},
    )
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except urllib.error.HTTPError as refused:
        return refused
    return None


def test_a_stand_in_states_its_times_to_its_time_step(standin: StandIn) -> None:
    standin.per_window, standin.window_seconds = 1, 30.0
    assert _get(standin) is None
    refused = _get(standin)
    assert refused is not None
    assert refused.code == 429
    whole = refused.headers["Retry-After"]
    assert whole.isdigit()  # whole seconds, as vendors say them
    assert 1 <= int(whole) <= 30

    short_window(standin, 1)
    standin.stats.calls = 0
    refusals = [r for r in (_get(standin) for _ in range(3)) if r is not None]
    assert refusals, "a second call in one short window is refused"
    stated = [float(r.headers["Retry-After"]) for r in refusals]
    assert all(0 < wait <= WINDOW for wait in stated), stated
    reset = float(refusals[0].headers["ratelimit-reset"])
    assert 0 < reset <= WINDOW
