"""A Front stand-in (standins.front) per test, for the connector tests."""

from __future__ import annotations

from tests.connectors.saas.services import SERVICES
from tests.standin_fixtures import standin_fixture

TOKEN = "front-api-token-0123456789abcdef"

# started as services.py starts it (a company allowing 600 calls a minute)
front_standin = standin_fixture(SERVICES["front"]().start, TOKEN)
