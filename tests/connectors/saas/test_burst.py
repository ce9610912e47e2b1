"""A burst of 50 requests at once against each service's stand-in: 25
access requests (five for each of five customers) and 25 erasures (five for
each of five others, so the same subject is erased concurrently), every
connector sharing one budget that matches what the stand-in allows. Every
access finds all the subject's records, every erased subject is gone and
verified so, the service refused fewer than 2 % of the calls and none was
made before a Retry-After ran out."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections

from connectors.base import ConnectorError, ErasureReceipt
from tests.connectors.saas.services import SERVICES, Service, identity_of
from tests.standin_fixtures import SPEEDUP, running

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("short_budget"),
]
TOKEN = "saas-burst-token-0123456789"
READERS, ERASED = range(1, 6), range(6, 11)  # customers are numbered from 1
PER_SUBJECT = 5
# The plan's limit, 3,000 calls a minute on the vendors' clock, told to the
# connector on the tests' (SPEEDUP times faster) and enforced by the
# stand-in per minute of the vendors' clock (60 s / SPEEDUP): high enough
# that a burst spans a few of the budget's windows (250 calls each).
PER_MINUTE = 3000 * SPEEDUP


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> Service:
    return SERVICES[request.param]()


@pytest.fixture
def standin(service: Service) -> Iterator[Any]:
    yield from running(service.start, TOKEN, latency=0.01)


def test_a_burst_of_50_requests_at_once(service: Service, standin: Any) -> None:
    standin.per_window, standin.window_seconds = PER_MINUTE // SPEEDUP, 60 / SPEEDUP
    readers = {n: service.subject(standin, n) for n in READERS}
    erased = {n: service.subject(standin, n) for n in ERASED}
    expected = {n: service.records(standin, n) for n in READERS}

    def run(job: tuple[str, int]) -> Any:
        action, number = job
        connector = service.connector(
            standin, token=TOKEN, rate_limit_per_minute=PER_MINUTE
        )
        try:
            if action == "access":
                return len(list(connector.access(identity_of(readers[number]))))
            return connector.erase(identity_of(erased[number]))
        finally:
            connections.close_all()  # this thread's connection, if any

    jobs = [("access", n) for n in READERS for _ in range(PER_SUBJECT)] + [
        ("erase", n) for n in ERASED for _ in range(PER_SUBJECT)
    ]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))

    for (action, number), result in zip(jobs, results, strict=True):
        if action == "access":
            assert result == expected[number], (action, number)
        else:
            assert isinstance(result, ErasureReceipt)
    for number, subject in erased.items():
        assert service.erased(standin, subject), number
        checked = service.connector(standin, token=TOKEN).verify_erased(
            identity_of(subject)
        )
        assert checked.found == 0, (number, checked.per_location)
    calls = standin.stats.calls
    assert calls >= len(jobs)
    assert standin.stats.refused_429 < 0.02 * calls, standin.stats
    assert standin.stats.early_retries == 0


def test_a_burst_over_a_revoked_token_fails_every_request_naming_auth(
    service: Service, standin: Any
) -> None:
    standin.token = "revoked-by-an-admin"
    subjects = [service.subject(standin, n) for n in ERASED]

    def run(subject: dict[str, Any]) -> ConnectorError:
        with pytest.raises(ConnectorError) as refused:
            service.connector(standin, token=TOKEN).erase(identity_of(subject))
        return refused.value

    with ThreadPoolExecutor(max_workers=len(subjects)) as pool:
        errors = list(pool.map(run, subjects))

    assert all(e.permanent and "auth refused (HTTP 401)" in e.message for e in errors)
    assert not any(service.erased(standin, s) for s in subjects)
