"""A member of the public files a request, proves it is them, and cancels it."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from dsr.models import Request

CODE = re.compile(r"Your code: (\d{6})")


@pytest.mark.browser
def test_portal_request_from_home_page_to_cancellation(
    live_server, transactional_db, settings, browser_page, screenshot_dir
):
    # Staff approve before work starts, so the subject may still cancel
    # after confirming (a subject cannot cancel once work is in progress).
    settings.REQUESTS_REQUIRE_APPROVAL = True
    page = browser_page

    # given the privacy home page
    page.goto(f"{live_server.url}/privacy/")
    assert page.get_by_role("heading", name="Your data, your say").is_visible()
    page.screenshot(path=str(screenshot_dir / "0-home.png"), full_page=True)

    # when the visitor clicks through to the form and fills it in
    page.get_by_role("link", name="Make a request").first.click()
    page.wait_for_url("**/privacy/requests/new/")
    page.get_by_label("Get a copy of my data").check()
    page.get_by_label("In the EU or EEA").check()
    page.get_by_label("Your e-mail address").fill("ada.lovelace@example.com")
    page.get_by_label("Anything else we should know? (optional)").fill(
        "I used the chat assistant last spring."
    )
    # the correction box shows only for a correction
    assert not page.get_by_label("What is wrong, and what should it say?").is_visible()
    page.screenshot(path=str(screenshot_dir / "1-form.png"), full_page=True)
    page.get_by_role("button", name="Send my request").click()

    # then the verify page asks for the e-mailed code; no address in the URL
    page.wait_for_url("**/privacy/verify/**")
    assert "@" not in page.url
    request = Request.objects.get()
    assert page.get_by_text(request.reference).first.is_visible()
    code = CODE.search(mail.outbox[-1].body).group(1)
    page.screenshot(path=str(screenshot_dir / "2-verify.png"), full_page=True)

    # when the code is typed
    page.get_by_label("Your 6-digit code").fill(code)
    page.get_by_role("button", name="Confirm", exact=True).click()

    # then the status page shows the reference, the due date and the state
    page.wait_for_url("**/privacy/status/**")
    request.refresh_from_db()
    assert request.status == "verified"
    main = page.locator("main")
    assert request.reference in main.inner_text()
    assert f"{request.due_on.day} {request.due_on:%B %Y}" in main.inner_text()
    assert "Identity confirmed" in page.locator(".badge").inner_text()
    assert "ada.lovelace" not in page.content()
    page.screenshot(path=str(screenshot_dir / "3-status.png"), full_page=True)

    # when cancel is pressed without ticking the box, nothing happens
    page.get_by_role("button", name="Cancel my request").click()
    assert page.get_by_text("Tick the box to confirm you want to cancel.").is_visible()
    request.refresh_from_db()
    assert request.status == "verified"
    page.screenshot(path=str(screenshot_dir / "4-cancel-error.png"), full_page=True)

    # when the box is ticked and cancel pressed
    page.get_by_label("Yes, cancel my request").check()
    page.get_by_role("button", name="Cancel my request").click()

    # then the request is cancelled, and the page says so
    page.wait_for_load_state()
    assert page.get_by_text("Your request has been cancelled.").is_visible()
    assert "Cancelled" in page.locator(".badge").inner_text()
    assert page.get_by_role("button", name="Cancel my request").count() == 0
    request.refresh_from_db()
    assert request.status == "cancelled"
    page.screenshot(path=str(screenshot_dir / "5-cancelled.png"), full_page=True)


@pytest.mark.browser
def test_portal_correction_needs_its_text(
    live_server, transactional_db, browser_page, screenshot_dir
):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone

    # given the form, with "Correct my data" chosen
    page.goto(f"{live_server.url}/privacy/requests/new/")
    page.get_by_label("Correct my data").check()
    correction = page.get_by_label("What is wrong, and what should it say?")
    assert correction.is_visible()
    page.get_by_label("In the United Kingdom").check()
    page.get_by_label("Your e-mail address").fill("ada.lovelace@example.com")

    # when it is sent without saying what to correct
    page.get_by_role("button", name="Send my request").click()

    # then the error sits next to the field, and the summary links to it
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    error = page.locator("#id_correction_error")
    assert "Say what is wrong" in error.inner_text()
    described_by = correction.get_attribute("aria-describedby")
    assert "id_correction_error" in described_by
    assert Request.objects.count() == 0
    page.screenshot(path=str(screenshot_dir / "6-form-errors.png"), full_page=True)


@pytest.mark.browser
def test_portal_correction_typed_for_another_kind_is_shown_refused(
    live_server, transactional_db, browser_page
):
    page = browser_page

    # given a correction typed, and then another kind chosen (the box hides)
    page.goto(f"{live_server.url}/privacy/requests/new/")
    page.get_by_label("Correct my data").check()
    correction = page.get_by_label("What is wrong, and what should it say?")
    correction.fill("My surname is Lovelace")
    page.get_by_label("Delete my data").check()
    assert not correction.is_visible()
    page.get_by_label("In the EU or EEA").check()
    page.get_by_label("Your e-mail address").fill("ada.lovelace@example.com")

    # when it is sent
    page.get_by_role("button", name="Send my request").click()

    # then the box is shown again with the refusal, so it can be cleared
    page.wait_for_load_state()
    correction = page.get_by_label("What is wrong, and what should it say?")
    assert correction.is_visible()
    assert "Only a request to correct data" in (
        page.locator("#id_correction_error").inner_text()
    )
    assert Request.objects.count() == 0
