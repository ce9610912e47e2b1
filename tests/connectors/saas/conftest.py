"""A Zendesk stand-in (standins.zendesk) per test, and connectors to it."""

from __future__ import annotations

from typing import Any

from connectors.kinds.saas import SaasConnector
from connectors.registry import kind_class
from standins.zendesk import StandIn, start
from standins.zendesk.state import AGENT_EMAIL, user_id
from tests.standin_fixtures import short_budget, standin_fixture

__all__ = ["short_budget"]  # a fixture of the rate tests

TOKEN = "zd-api-token-0123456789"
SUBJECT = 3  # the demo customer whose data the tests ask for


def zendesk_config(url: str, **extra: Any) -> dict[str, Any]:
    return {"subdomain": "demo", "email": AGENT_EMAIL, "base_url": url, **extra}


standin = standin_fixture(start, TOKEN)


def connector(standin: StandIn, *, token: str = TOKEN, **extra: Any) -> SaasConnector:
    cls = kind_class("zendesk")
    assert issubclass(cls, SaasConnector)
    return cls(
        name="zendesk-test",
        config=zendesk_config(standin.url, **extra),
        secrets={"api_token": token},
    )


def subject(standin: StandIn, number: int = SUBJECT) -> dict[str, Any]:
    return dict(standin.account.users[user_id(number)])
