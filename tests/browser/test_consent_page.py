"""A customer withdraws a consent with one click; a GPC browser is opted out."""

from __future__ import annotations

import pytest

from consent.links import consent_token
from consent.models import ConsentState
from consent.seed import seed_purposes
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create


@pytest.mark.browser
def test_consent_page_withdraw_and_gpc(
    live_server, transactional_db, browser_page, screenshot_dir
):
    seed_purposes()  # a transactional database starts empty
    ada = subject_get_or_create(claims=identity_claims({"email": "ada@example.com"}))
    url = f"{live_server.url}/privacy/consents/{consent_token(str(ada.public_id))}/"
    page = browser_page

    # given the consent page, with ai_training allowed
    page.goto(url)
    card = page.locator("#purpose-ai_training")
    card.get_by_role("button", name="Allow").click()
    page.wait_for_load_state()
    card = page.locator("#purpose-ai_training")
    assert card.get_attribute("data-state") == "granted"
    assert "You can withdraw your consent at any time" in page.inner_text("main")

    # when the customer presses Withdraw once
    card.get_by_role("button", name="Withdraw").click()
    page.wait_for_load_state()

    # then the page shows it withdrawn, and so does the record
    card = page.locator("#purpose-ai_training")
    assert card.get_attribute("data-state") == "withdrawn"
    assert "Withdrawn" in card.inner_text()
    assert card.get_by_role("button", name="Allow").is_visible()
    page.screenshot(
        path=str(screenshot_dir / "consent-1-withdrawn.png"), full_page=True
    )
    state = ConsentState.objects.get(subject=ada, purpose__slug="ai_training")
    assert state.state == "withdrawn"

    # when the page is opened by a browser sending Global Privacy Control
    context = page.context.browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    try:
        gpc_page = context.new_page()
        gpc_page.goto(url)
        text = gpc_page.inner_text("main")
        gpc_page.screenshot(
            path=str(screenshot_dir / "consent-2-gpc.png"), full_page=True
        )
        analytics_state = gpc_page.locator("#purpose-analytics").get_attribute(
            "data-state"
        )
    finally:
        context.close()

    # then it says so, and sale/sharing purposes are opted out
    assert (
        "We received your browser's Global Privacy Control signal and have opted "
        "you out of sale/sharing" in text
    )
    assert analytics_state == "withdrawn"
    assert not ConsentState.objects.filter(
        subject=ada, purpose__slug="ai_processing"
    ).exists()
