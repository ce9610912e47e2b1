"""The pages an officer and a customer use most fit a desktop (1,280 px) and a
phone (390 px): nothing pushes the page wider than the window. Screenshots of
each go to $PORTAL_SCREENSHOT_DIR (issue 16's look at them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from consent.links import consent_token
from consent.seed import seed_purposes
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create

WIDTHS = (1280, 390)


def _sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def _overflow(page: Any) -> int:
    return int(
        page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    )


@pytest.mark.browser
def test_queue_request_and_consent_pages_fit_desktop_and_phone(
    live_server, transactional_db, officer, make_request, browser_page, screenshot_dir
):
    cache.clear()
    seed_purposes()
    requests = [make_request(verified=True) for _ in range(4)]
    subject = subject_get_or_create(
        claims=identity_claims({"email": "grace.hopper@example.com"})
    )
    page = browser_page
    _sign_in(page, live_server, officer)
    pages = {
        "queue": "/dashboard/",
        "request": f"/dashboard/requests/{requests[0].public_id}/",
        "choices": "/privacy/choices/",
        "consents": f"/privacy/consents/{consent_token(str(subject.public_id))}/",
    }
    too_wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            page.screenshot(
                path=str(screenshot_dir / f"{name}-{width}.png"), full_page=True
            )
            if _overflow(page) > 0:
                too_wide.append(f"{name} at {width}px: {_overflow(page)}px")
    assert not too_wide, too_wide
