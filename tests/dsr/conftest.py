"""Fixtures of the dsr tests."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.services import connector_create
from tests.disclosure import DISCLOSURE


@pytest.fixture
def stores(system_actor: Any) -> None:
    """Two enabled manual stores, `billing-desk` and `legacy-crm`: every
    request plans one task in each."""
    for name in ("billing-desk", "legacy-crm"):
        connector_create(
            actor=system_actor,
            name=name,
            kind="manual",
            config={"instructions": f"Look the customer up in {name}."},
            data_categories=["billing"],
            disclosure=DISCLOSURE,
        )
