"""The README's tour, step by step, in Chromium, on the seeded demo.

Each numbered block below is the README step of the same number, clicking
the same labels. `test_the_readme_names_what_the_tour_clicks` keeps the two
together: a label renamed on a page must be renamed in the README too.
Celery runs eagerly here, so what `make run`'s worker and beat do in the
background happens during the click (the alert rules are run as beat would).
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import urllib.request
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django_otp.oath import totp

from alerts.tasks import alerts_evaluate_task
from connectors.demo.content import customer as demo_customer
from consent.seed import seed_purposes
from dsr.models import Request

README = Path(__file__).resolve().parents[2] / "README.md"
CODE = re.compile(r"Your code: (\d{6})")
CUSTOMER = demo_customer(7)
PASSWORD = "privacydesk-demo"
# Every label the tour below clicks or fills, as the README names it.
LABELS = [
    "Make a request",
    "Get a copy of my data",
    "In the EU or EEA",
    "Your e-mail address",
    "Send my request",
    "Your 6-digit code",
    "Confirm",
    "Download my data",
    "Send me a code",
    "Open my downloads",
    "Download the ZIP file",
    "Download the letter (PDF)",
    "Open my privacy choices",
    "Open my choices",
    "Using conversations to train AI models",
    "Allow",
    "Withdraw",
    "Reference",
    "Apply",
    "Download evidence pack (PDF)",
    "Rectification",
    "Extend the deadline",
    "Extend deadline",
    "Withdrawals sent to stores",
    "Records of processing",
    "Export PDF",
    "Breaches",
    "Record a breach",
    "Record breach",
    "Alerts",
    "Many packages downloaded",
    "Acknowledge",
    "Security",
    "Set up an authenticator app",
    "Confirm and turn on",
    "Enter your code",
]


def _tour_text() -> str:
    text = README.read_text()
    start = text.index("## A fifteen-minute tour")
    # as one line: a label may wrap in the README
    return " ".join(text[start : text.index("\n## ", start + 1)].split())


def test_the_readme_names_what_the_tour_clicks() -> None:
    tour = _tour_text()
    missing = [label for label in LABELS if f"*{label}*" not in tour]
    assert not missing, f"the README tour does not name: {missing}"
    assert CUSTOMER.email in tour
    assert "tests/browser/test_readme_tour.py" in tour


def _last_code() -> str:
    match = CODE.search(mail.outbox[-1].body)
    assert match, "no code in the last e-mail"
    return match.group(1)


def _opted_out(store: Path, email: str) -> bool:
    with sqlite3.connect(store) as db:
        row = db.execute(
            "SELECT ai_training_opt_out FROM customers WHERE email = ?", (email,)
        ).fetchone()
    return bool(row[0])


def _verify(path: str) -> str:
    out = StringIO()
    call_command("verify_evidence", path, stdout=out)
    return out.getvalue()


def _download(page: Any, name: str, role: str = "link") -> str:
    with page.expect_download() as download:
        page.get_by_role(role, name=name).first.click()
    return str(download.value.path())


def _sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_readme_tour(
    live_server, transactional_db, settings, tmp_path, browser_page, screenshot_dir
):
    settings.VAR_DIR = tmp_path
    cache.clear()  # the portal's rate-limit counters outlive a test
    seed_purposes()  # a transactional test before this one flushed them
    call_command("seed_demo", "--force", stdout=StringIO())
    store = tmp_path / "demo" / "helpdesk.sqlite3"
    url = live_server.url
    page = browser_page

    # 1. File a request
    page.goto(f"{url}/privacy/")
    page.get_by_role("link", name="Make a request").first.click()
    page.get_by_label("Get a copy of my data").check()
    page.get_by_label("In the EU or EEA").check()
    page.get_by_label("Your e-mail address").fill(CUSTOMER.email)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**/privacy/verify/**")
    request = Request.objects.order_by("-pk").first()
    assert request is not None
    assert request.reference in page.locator("main").inner_text()

    # 2. Prove it is you: the stores are searched and the request completes
    page.get_by_label("Your 6-digit code").fill(_last_code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url("**/privacy/status/**")
    request.refresh_from_db()
    assert request.status == "completed"
    page.reload()
    page.screenshot(path=str(screenshot_dir / "tour-02-status.png"), full_page=True)

    # 3. Download your data: one code opens the ZIP and the letter
    page.get_by_role("link", name="Download my data").click()
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Your 6-digit code").fill(_last_code())
    page.get_by_role("button", name="Open my downloads").click()
    page.wait_for_url("**/privacy/package/files/**")
    with open(_download(page, "Download the ZIP file"), "rb") as archive:
        assert archive.read(2) == b"PK"
    with open(_download(page, "Download the letter (PDF)"), "rb") as letter:
        assert letter.read(5) == b"%PDF-"

    # 4. Withdraw a consent: the demo helpdesk marks the customer's row
    assert not _opted_out(store, CUSTOMER.email)
    page.goto(f"{url}/privacy/")
    page.get_by_role("link", name="Open my privacy choices").click()
    page.get_by_label("Your e-mail address").fill(CUSTOMER.email)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Your 6-digit code").fill(_last_code())
    page.get_by_role("button", name="Open my choices").click()
    page.wait_for_url("**/privacy/consents/**")
    purpose = page.locator("#purpose-ai_training")
    assert "Using conversations to train AI models" in purpose.inner_text()
    purpose.get_by_role("button", name="Allow").click()
    page.locator("#purpose-ai_training").get_by_role("button", name="Withdraw").click()
    page.wait_for_load_state()
    assert _opted_out(store, CUSTOMER.email)

    # 5. Sign in and find the (completed) request by its reference
    _sign_in(page, url, "officer")
    page.get_by_label("Reference").fill(request.reference)
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name=request.reference).click()
    page.wait_for_url(f"**/dashboard/requests/{request.public_id}/")
    page.screenshot(path=str(screenshot_dir / "tour-05-request.png"), full_page=True)

    # 6. Check the evidence
    assert "OK" in _verify(_download(page, "Download evidence pack (PDF)"))

    # 7. Extend the open rectification request
    rectification = Request.objects.get(
        kind="rectification", status="in_progress", regime="gdpr"
    )
    due_before = rectification.due_on
    page.goto(f"{url}/dashboard/")
    page.get_by_role("link", name=rectification.reference).click()
    page.get_by_text("Extend the deadline", exact=True).click()
    page.get_by_label("Why more time is needed").fill(
        "Complex request: many systems to search"
    )
    page.get_by_label("I confirm: extend the deadline").check()
    page.get_by_role("button", name="Extend deadline").click()
    page.wait_for_load_state()
    rectification.refresh_from_db()
    assert rectification.extended_at is not None
    assert rectification.due_on > due_before

    # 8. The consent withdrawal arrived in the helpdesk
    page.goto(f"{url}/dashboard/consent/")
    page.get_by_role("link", name="Withdrawals sent to stores").click()
    row = page.locator("tr[data-status='succeeded']").filter(has_text="helpdesk")
    assert "ai_training" in row.first.inner_text()

    # 9. Records of processing: generated, with its gap, exported verifiable
    page.get_by_role("link", name="Records of processing").first.click()
    assert "gap" in page.locator("main").inner_text().lower()
    assert "OK" in _verify(_download(page, "Export PDF", role="button"))

    # 10. Record a breach: its clock starts at 72 hours
    page.get_by_role("link", name="Breaches").first.click()
    page.get_by_role("link", name="Record a breach").click()
    page.get_by_label("Title").fill("Support inbox forwarded to a wrong address")
    page.get_by_label("Became aware at").fill(
        _local_now(settings).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("What happened (33(3)(a) nature)").fill(
        "A forwarding rule sent 40 support e-mails to an outside address."
    )
    page.get_by_label("Risk to people's rights and freedoms").select_option("risk")
    page.get_by_role("button", name="Record breach").click()
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    assert re.search(r"\b7[12] ?h", body) or "72" in body, body[:400]

    # 11. Trip the bulk-download alert: five requests' evidence packs
    for other in Request.objects.exclude(pk=request.pk).order_by("pk")[:5]:
        page.goto(f"{url}/dashboard/requests/{other.public_id}/")
        _download(page, "Download evidence pack (PDF)")
    alerts_evaluate_task()  # as beat does every minute
    page.get_by_role("link", name="Alerts").first.click()
    alert = page.locator("main").filter(has_text="Many packages downloaded")
    assert "officer" in alert.inner_text()
    page.get_by_label("Note").first.fill("Officer preparing the quarterly audit.")
    page.get_by_role("button", name="Acknowledge").first.click()
    page.wait_for_load_state()
    assert "acknowledged" in page.locator("main").inner_text().lower()

    # 12. Two-step sign-in: enrol, sign out, sign in with the app's code
    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    key = page.get_by_test_id("manual-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    page.get_by_role("textbox", name="Code", exact=True).fill(f"{totp(secret):06d}")
    page.get_by_role("button", name="Confirm and turn on").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="I have saved them: continue").click()
    page.get_by_role("button", name="Log out", exact=True).click()
    _sign_in(page, url, "officer")
    assert page.get_by_role("heading", name="Enter your code").is_visible()
    page.get_by_role("textbox", name="Code", exact=True).fill(
        f"{totp(secret, t0=-30):06d}"
    )
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{url}/dashboard/**")
    assert page.get_by_role("button", name="Log out", exact=True).is_visible()

    # 13. The API lists the request with its due date
    out = StringIO()
    call_command("create_api_client", "tour", "--scopes", "requests:read", stdout=out)
    token = out.getvalue().strip().splitlines()[-1].strip()
    api = urllib.request.Request(
        f"{url}/api/v1/requests/", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(api) as response:  # noqa: S310 - the live server
        listed = json.load(response)
    found = [r for r in listed["results"] if r["reference"] == request.reference]
    assert found
    assert found[0]["due_on"]


def _local_now(settings: Any) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.CONTROLLER_TIME_ZONE))
