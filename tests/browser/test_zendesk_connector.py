"""Issue 13's "done when", in Chromium: an officer adds a Zendesk connector
in the dashboard with the generated form, pointed at the Zendesk stand-in,
tests the connection, a customer files an erasure in the portal (as the
README's tour does), a real worker carries it out, and the stand-in's own
state shows the user permanently deleted and the kept tickets' comments
redacted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection  # noqa: F401 - read by the skipif condition

from connectors.models import Connector
from dsr.models import Request
from tests.integration.conftest import (  # noqa: F401 - fixtures
    broker_url,
    mail_dir,
    shared_worker,
    wait_for,
    worker,
)

CODE = re.compile(r"Your code: (\d{6})")
TOKEN = "zd-browser-token-0123456789"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


@pytest.fixture
def zendesk() -> Iterator[Any]:
    from standins.zendesk import start

    standin = start(token=TOKEN)
    yield standin
    standin.stop()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/dashboard/login/")
    page.get_by_label("Username").fill("olivia.officer")
    page.get_by_label("Password").fill("pw-for-tests-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def test_an_officer_adds_zendesk_in_the_dashboard_and_an_erasure_reaches_it(
    live_server,
    worker,  # noqa: F811 - the fixture imported above
    officer,
    zendesk,
    browser_page,
    screenshot_dir,
):
    from standins.zendesk.state import AGENT_EMAIL

    page = browser_page
    base = live_server.url
    customer = zendesk.account.live_users()[1]  # as `make run` names one
    _sign_in(page, base)

    # when the officer picks Zendesk Support and fills in its fields
    page.goto(f"{base}/dashboard/connectors/")
    page.get_by_role("link", name="+ Add connector").click()
    page.get_by_role("link", name="Zendesk Support").click()
    page.wait_for_url("**/dashboard/connectors/new/?kind=zendesk")
    page.locator("#id_name").fill("zendesk")
    page.locator("#id_config__subdomain").fill("demo")
    page.locator("#id_config__email").fill(AGENT_EMAIL)
    page.locator("#id_config__base_url").fill(zendesk.url)
    page.locator("#id_secret__api_token").fill(TOKEN)

    # and tests the connection before saving
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-test")
    result.get_by_text("Connection works.").wait_for()
    assert TOKEN not in page.content()
    assert not Connector.objects.exists()  # a test saves nothing
    page.screenshot(path=str(screenshot_dir / "zendesk-1-tested.png"), full_page=True)

    # and says what the store holds and what the subject is told, and saves
    page.locator("#id_data_categories").fill("contact, support_ticket")
    page.locator("#id_disclosure_purposes").fill("Answering support questions")
    page.locator("#id_disclosure_recipients").fill("Zendesk, Inc. (processor)")
    page.locator("#id_disclosure_retention").fill("Three years after the last ticket")
    page.locator("#id_disclosure_source").fill("The customer, writing to support")
    for item in ("automated_decision_making", "transfers"):
        page.locator(f"#id_disclosure_{item}_na").check()
        page.locator(f"#id_disclosure_{item}_reason").fill("not in this demo")
    page.get_by_role("button", name="Add connector").click()
    page.wait_for_url("**/dashboard/connectors/*/")
    assert "Connector zendesk added" in page.content()
    stored = Connector.objects.get(name="zendesk")
    assert stored.secrets == {"api_token": TOKEN}
    assert stored.config == {
        "subdomain": "demo",
        "email": AGENT_EMAIL,
        "base_url": zendesk.url,
        "rate_limit_per_minute": 700,
        "timeout_seconds": 15,
    }

    # and on the connector page, tests it again
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_load_state()
    assert "Connection to zendesk works" in page.content()

    # when the customer files an erasure in the portal and confirms it
    page.goto(f"{base}/privacy/requests/new/")
    page.get_by_label("Delete my data").check()
    page.get_by_label("In the EU or EEA").check()
    page.get_by_label("Your e-mail address").fill(customer["email"])
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**/privacy/verify/**")
    code = CODE.search(mail.outbox[-1].body).group(1)
    page.get_by_label("Your 6-digit code").fill(code)
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url("**/privacy/status/**")

    # then the worker carries it out, and the request completes
    request = Request.objects.get()
    wait_for(
        lambda: Request.objects.get(pk=request.pk).status == "completed",
        timeout=60,
        what="the erasure to complete",
    )
    page.goto(f"{base}/dashboard/requests/{request.public_id}/")
    assert "Completed" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "zendesk-2-done.png"), full_page=True)

    # and the stand-in's own state: the user purged, kept comments redacted
    page.goto(f"{zendesk.url}/_standin/state.json")
    state = json.loads(page.locator("body").inner_text())
    assert customer["id"] in state["permanently_deleted"]
    assert state["redacted_comments"] > 0
    from standins.zendesk.state import REDACTED

    redacted = [
        comment
        for comments in zendesk.account.comments.values()
        for comment in comments
        if comment["author_id"] == customer["id"]
    ]
    assert redacted
    assert all(set(c["body"]) <= {REDACTED, " "} for c in redacted)
