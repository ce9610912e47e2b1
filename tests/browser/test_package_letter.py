"""A data subject downloads the letter of their access package as a PDF."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from connectors.models import Connector
from dsr.links import status_token
from dsr.services.packages import access_package_build_and_close
from tests.dsr.packages.conftest import (
    HELPDESK_DISCLOSURE,
    HELPDESK_RECORDS,
    add_task,
    jsonl,
)

CODE = re.compile(r"Your code: (\d{6})")


@pytest.mark.browser
def test_subject_downloads_the_letter_as_a_pdf(
    live_server,
    transactional_db,
    settings,
    tmp_path,
    make_request,
    browser_page,
    screenshot_dir,
):
    # given an access request answered by one store, its package built
    settings.MEDIA_ROOT = str(tmp_path / "media")
    request = make_request(verified=True)
    helpdesk = Connector.objects.create(
        name="helpdesk",
        kind="manual",
        config={},
        data_categories=["contact", "support_ticket"],
        disclosure=HELPDESK_DISCLOSURE,
    )
    add_task(request, helpdesk, content=jsonl(HELPDESK_RECORDS))
    assert access_package_build_and_close(request_id=request.pk) == "completed"
    page = browser_page
    page.goto(
        f"{live_server.url}/privacy/package/{status_token(str(request.public_id))}/"
    )

    # when the subject asks for a code and types it
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_load_state()
    code = CODE.search(mail.outbox[-1].body).group(1)
    page.get_by_label("Your 6-digit code").fill(code)
    page.get_by_role("button", name="Open my downloads").click()
    page.wait_for_load_state()
    page.screenshot(path=str(screenshot_dir / "package-letter.png"), full_page=True)

    # then one code opens both: the letter as a PDF, and the ZIP, no new code
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the letter (PDF)").click()
    assert download.value.suggested_filename == f"{request.reference}-letter.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    with page.expect_download() as archive:
        page.get_by_role("link", name="Download the ZIP file").click()
    assert archive.value.suggested_filename.endswith("-access-package.zip")
    with open(archive.value.path(), "rb") as zipped:
        assert zipped.read(2) == b"PK"
    assert len(mail.outbox) == 2  # the ready notice, and one code
