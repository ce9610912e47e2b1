"""What every SaaS service shares, against each service's stand-in: the
health check names a refused key, a 429 is waited out as Retry-After says,
the budget spreads calls so the service never refuses, 5xx are retried then
reported as transient, a store that is down is a network failure, and a
token revoked mid-run fails the task for good naming auth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import ConnectorError
from connectors.kinds.saas.budget import Budget
from tests.connectors.saas.services import SERVICES, SUBJECT, Service, identity_of
from tests.standin_fixtures import WINDOW, per_minute, running, short_window

pytestmark = pytest.mark.django_db
TOKEN = "saas-api-token-0123456789"


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> Service:
    return SERVICES[request.param]()


@pytest.fixture
def standin(service: Service) -> Iterator[Any]:
    yield from running(service.start, TOKEN)


def _access(service: Service, standin: Any, **extra: Any) -> int:
    connector = service.connector(standin, token=TOKEN, **extra)
    subject = service.subject(standin, SUBJECT)
    return len(list(connector.access(identity_of(subject))))


def test_health_names_what_failed(service: Service, standin: Any) -> None:
    assert service.connector(standin, token=TOKEN).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        service.connector(standin, token="wrong-token").health()
    assert refused.value.permanent
    assert "auth refused (HTTP 401)" in refused.value.message
    assert "wrong-token" not in refused.value.message


@pytest.mark.usefixtures("short_budget")
def test_a_429_is_waited_out_as_retry_after_says(
    service: Service, standin: Any, settings: Any
) -> None:
    if service.limit_status != 429:
        pytest.skip(f"{service.kind} refuses with {service.limit_status}, no 429")
    # the service allows 5 calls (HubSpot: 1) per window, says so only by a
    # 429 (HubSpot and Intercom with no Retry-After: one budget window is
    # waited), and our budget thinks it has plenty
    # (windows of 2 s, not 0.5: the calls of one access must fall in one
    # window even on a loaded machine, or no 429 comes)
    settings.SAAS_BUDGET_WINDOW_MS = round(WINDOW * 4 * 1000)
    short_window(standin, service.overrun, windows=4)
    standin.rate_headers = False

    found = _access(
        service,
        standin,
        rate_limit_per_minute=per_minute(service.overrun * 20, windows=4),
    )

    assert found == service.records(standin, SUBJECT)
    assert standin.stats.refused_429 >= 1
    assert standin.stats.early_retries == 0  # never called before Retry-After
    scope = f"{service.kind}:{service.kind}-test"
    assert Budget(scope, per_minute=1).refusals() >= 1


@pytest.mark.usefixtures("short_budget")
def test_the_budget_spreads_calls_so_the_service_never_refuses(
    service: Service, standin: Any
) -> None:
    # the connector knows the real limit: 5 calls in each of the budget's
    # windows (60 a minute on the vendors' clock)
    short_window(standin, 5)
    standin.rate_headers = False  # the budget alone keeps within it

    found = _access(service, standin, rate_limit_per_minute=per_minute(5))

    assert found == service.records(standin, SUBJECT)
    assert standin.stats.refused_429 == 0


def test_server_errors_are_retried_then_reported_as_transient(
    service: Service, standin: Any
) -> None:
    standin.error_rate = 0.3
    assert _access(service, standin) == service.records(standin, SUBJECT)
    assert standin.stats.failed_5xx > 0

    standin.error_rate = 1.0
    subject = service.subject(standin, SUBJECT)
    with pytest.raises(ConnectorError) as failed:
        service.connector(standin, token=TOKEN).erase(identity_of(subject))
    assert not failed.value.permanent
    assert "answered HTTP 503 4 times" in failed.value.message
    assert not service.erased(standin, subject)


def test_a_store_that_is_down_is_a_transient_network_failure(
    service: Service, standin: Any
) -> None:
    connector = service.connector(standin, token=TOKEN)
    standin.stop()

    with pytest.raises(ConnectorError) as down:
        connector.erase(identity_of(service.subject(standin, SUBJECT)))

    assert not down.value.permanent
    assert "unreachable" in down.value.message


def test_a_token_revoked_mid_run_fails_for_good_naming_auth(
    service: Service, standin: Any
) -> None:
    standin.revoke_after = service.before_delete
    subject = service.subject(standin, SUBJECT)

    with pytest.raises(ConnectorError) as revoked:
        service.connector(standin, token=TOKEN).erase(identity_of(subject))

    assert revoked.value.permanent
    assert "auth refused (HTTP 401)" in revoked.value.message
    assert subject["email"] not in revoked.value.message
    assert not service.erased(standin, subject)
