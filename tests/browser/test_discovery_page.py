"""Discover the demo helpdesk in Chromium: the DSN form, the scan, and the
proposed map, which fits both a desktop (1,280 px) and a phone (390 px)
without sideways scrolling. Screenshots go to $PORTAL_SCREENSHOT_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite

pytestmark = pytest.mark.browser


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/dashboard/login/")
    page.get_by_label("Username").fill("olivia.officer")
    page.get_by_label("Password").fill("pw-for-tests-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def test_the_proposal_of_the_demo_helpdesk_fits_desktop_and_phone(
    live_server: Any,
    officer: Any,
    browser_page: Any,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    store = tmp_path / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=40))
    page = browser_page
    base = live_server.url
    _sign_in(page, base)

    # the picker leads to discovery; the scan runs and shows its proposal
    page.goto(f"{base}/dashboard/connectors/new/")
    page.get_by_role("link", name="Discover a SQL store").click()
    page.get_by_label("Database URL").fill(f"sqlite:///{store}")
    page.get_by_role("button", name="Scan the store").click()
    page.wait_for_selector("h1:has-text('Proposed map')", timeout=60_000)
    assert page.locator("#table-customers").is_visible()
    assert page.locator("#table-ai_conversations").is_visible()

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{overflow}px sideways scroll at {width}px"
        # every select of the column table is inside the viewport
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('.discovery-columns select')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= width
        page.screenshot(
            path=str(screenshot_dir / f"discovery-proposal-{width}.png"),
            full_page=True,
        )
