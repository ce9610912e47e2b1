"""An Intercom stand-in (standins.intercom) per test, for the connector
tests and the executor's ones (import the fixture into the test module)."""

from __future__ import annotations

from standins.intercom import start
from tests.standin_fixtures import standin_fixture

TOKEN = "ic-access-token-0123456789"

intercom_standin = standin_fixture(start, TOKEN)
