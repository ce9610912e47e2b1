"""On a phone (390 px) the queue keeps Status, Due and Days left on screen
(issue 16, item 8)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client


@pytest.mark.browser
def test_queue_at_390px_shows_status_due_and_days_left(
    live_server, transactional_db, officer, make_request, browser_page, screenshot_dir
):
    # given open requests, and an officer signed in on a phone
    requests = [make_request(verified=True) for _ in range(3)]
    client = Client()
    client.force_login(officer)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    # when the queue is opened
    page.goto(f"{live_server.url}/dashboard/")
    page.screenshot(path=str(screenshot_dir / "queue-390.png"), full_page=True)

    # then each row's reference, status, due date and days left are inside
    # the viewport's width, and the page does not scroll sideways
    rows = page.locator("table.table--queue tbody tr")
    assert rows.count() == len(requests)
    for index in range(rows.count()):
        row = rows.nth(index)
        for selector in (".cell--ref", ".cell--status", ".cell--due", ".cell--days"):
            cell = row.locator(selector)
            assert cell.is_visible(), selector
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0, selector
            assert box["x"] + box["width"] <= 390, selector
        assert not row.locator(".col--lesser").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
