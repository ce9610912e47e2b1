"""A HubSpot stand-in (standins.hubspot) per test, for the connector tests."""

from __future__ import annotations

from standins.hubspot import start
from tests.standin_fixtures import standin_fixture

TOKEN = "pat-na1-00000000-0000-4000-8000-000000000000"

hubspot_standin = standin_fixture(start, TOKEN)
