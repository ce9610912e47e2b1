"""The access letter: HTML in the package, a PDF made when someone asks."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dsr.links import status_token
from dsr.models import AccessPackage
from dsr.packages import letter_pdf
from dsr.services.packages import (
    access_package_build_and_close,
    access_packages_purge_expired,
)
from tests.dsr.packages.conftest import open_package
from tests.evidence.pack_helpers import flat_text

pytestmark = pytest.mark.django_db
CODE = re.compile(r"Your code: (\d{6})")
LETTER_DOWNLOADED = "access_package.letter_downloaded"


@pytest.fixture
def package(answered_request, django_capture_on_commit_callbacks) -> AccessPackage:
    request = answered_request()
    with django_capture_on_commit_callbacks(execute=True):
        access_package_build_and_close(request_id=request.pk)
    mail.outbox.clear()
    return AccessPackage.objects.select_related("request").get(request=request)


def _page(package: AccessPackage) -> str:
    return reverse(
        "portal:package", args=[status_token(str(package.request.public_id))]
    )


def _send_code(client: Client, package: AccessPackage) -> str:
    assert client.post(_page(package), {"action": "resend"}).status_code == 302
    code = CODE.search(mail.outbox[-1].body)
    assert code, "no code in the e-mail"
    return code[1]


def _letter_link(client: Client, package: AccessPackage) -> str:
    """A fresh code by e-mail, typed in; the downloads page it opens links
    the letter as a PDF."""
    code = _send_code(client, package)
    response = client.post(_page(package), {"action": "verify", "code": code})
    assert response.status_code == 302
    return _letter_on(client, response["Location"])


def _letter_on(client: Client, files_page: str) -> str:
    page = client.get(files_page)
    assert page.status_code == 200
    token = files_page.rstrip("/").rsplit("/", 1)[1]
    link = f"/privacy/package/letter/{token}/"
    assert f'href="{link}"' in page.content.decode()
    return link


def _staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _normal(text: str) -> str:
    """Compare text without whitespace or typographic ligatures."""
    return "".join(unicodedata.normalize("NFKC", text).split())


class _ListItems(HTMLParser):
    """The text of every <li> of a page: the letter's Art. 15 items."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "li":
            self._depth += 1
            self.items.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.items[-1] += data


def _letter_items(package: AccessPackage) -> list[str]:
    parser = _ListItems()
    parser.feed(open_package(package).read("letter.html").decode())
    return [item for item in parser.items if item.strip()]


# --- the package -------------------------------------------------------------------


def test_package_has_the_letter_as_html_and_no_pdf(package) -> None:
    # when the package is opened
    archive = open_package(package)

    # then the letter is there as a page with every Art. 15 heading, no PDF
    assert "letter.pdf" not in archive.namelist()
    assert "letter.pdf" not in {entry["name"] for entry in package.contents}
    letter = archive.read("letter.html").decode()
    for heading in (
        "(a) Why we use your data",
        "(b) What kinds of data about you we hold",
        "(c) Who receives your data",
        "(d) How long we keep your data",
        "(e) Your other rights",
        "(f) Your right to complain",
        "(g) Where your data came from",
        "(h) Automated decisions, including profiling",
        "Art. 15(2): Transfers outside the EU/EEA",
    ):
        assert heading in letter, heading
    assert "Answering your support questions" in letter
    assert "@page { size: A4" in letter  # it prints on A4 by itself
    index = archive.read("index.html").decode()
    assert "(a) Why we use your data" in index  # index.html shows it too
    assert "letter.pdf" not in index
    assert package.letter_file == ""  # no PDF until someone asks


# --- the subject, in the portal ----------------------------------------------------


def test_subject_gets_the_letter_as_pdf_after_a_fresh_code(client, package) -> None:
    # given a fresh code, and the package page saying the letter comes with it
    code = _send_code(client, package)
    page = client.get(_page(package)).content.decode()
    assert "our letter as a PDF" in page

    # when the subject types the code, and takes the letter on the downloads page
    files = client.post(_page(package), {"action": "verify", "code": code})
    link = _letter_on(client, files["Location"])
    response = client.get(link)

    # then a PDF of the package's own letter comes back
    assert link.startswith("/privacy/package/letter/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{package.request.reference}-letter.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")
    text = _normal(flat_text(body))
    items = _letter_items(package)
    assert "Answering you with our AI assistant" in items
    for item in items:  # purposes, categories, recipients, retention, ...
        assert _normal(item) in text, item
    assert _normal(package.request.reference) in text

    # and it is kept, audited as the subject's, and the ZIP is not counted
    package.refresh_from_db()
    assert package.letter_sha256 == hashlib.sha256(body).hexdigest()
    with default_storage.open(package.letter_file, "rb") as kept:
        assert kept.read() == body
    event = AuditEvent.objects.get(action=LETTER_DOWNLOADED)
    assert event.actor == f"subject:{package.request.public_id}"
    assert event.object_id == str(package.request.public_id)
    assert event.data == {
        "package": str(package.public_id),
        "sha256": package.letter_sha256,
        "size": len(body),
        "rendered": True,
    }
    assert package.download_count == 0
    assert not AuditEvent.objects.filter(action="access_package.downloaded").exists()


def test_a_second_download_is_the_same_kept_file(client, package, monkeypatch) -> None:
    # given a letter already drawn once
    first = b"".join(client.get(_letter_link(client, package)).streaming_content)

    # when it is asked for again (nothing may be drawn a second time)
    def no_render(letter_html: str) -> bytes:
        raise AssertionError("the kept PDF should have been served")

    monkeypatch.setattr(letter_pdf, "letter_pdf_render", no_render)
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        second = b"".join(client.get(_letter_link(client, package)).streaming_content)

    # then it is the very same file, and both downloads are audited
    assert second == first
    events = AuditEvent.objects.filter(action=LETTER_DOWNLOADED).order_by("sequence")
    assert [e.data["rendered"] for e in events] == [True, False]
    assert {e.data["sha256"] for e in events} == {hashlib.sha256(first).hexdigest()}


def test_expired_letter_link_is_refused(client, package, settings) -> None:
    # given a letter link issued now
    link = _letter_link(client, package)

    # when it is opened after ACCESS_PACKAGE_LINK_DAYS
    later = timezone.now() + timedelta(days=settings.ACCESS_PACKAGE_LINK_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        response = client.get(link)

    # then it is gone, and nothing was drawn, kept or audited
    assert response.status_code == 410
    assert "This download link has expired" in response.content.decode()
    package.refresh_from_db()
    assert package.letter_file == ""
    assert not AuditEvent.objects.filter(action=LETTER_DOWNLOADED).exists()


def test_forged_letter_link_is_not_found(client, package) -> None:
    # given
    link = _letter_link(client, package)

    # when
    response = client.get(link[:-3] + "xyz/")

    # then
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=LETTER_DOWNLOADED).exists()


def test_wrong_code_gives_no_letter(client, package) -> None:
    # given a code was sent
    code = _send_code(client, package)
    wrong = "000000" if code != "000000" else "111111"

    # when a wrong one is typed
    response = client.post(_page(package), {"action": "letter", "code": wrong})

    # then no link, nothing drawn
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    package.refresh_from_db()
    assert package.letter_file == ""
    assert not AuditEvent.objects.filter(action="access_package.link_issued").exists()


def test_portability_export_offers_no_letter(
    client, answered_request, settings, django_capture_on_commit_callbacks
) -> None:
    # given a portability export and a valid download link for it
    settings.PORTABILITY_CATEGORIES = ["support_ticket"]
    request = answered_request(kind="portability")
    with django_capture_on_commit_callbacks(execute=True):
        access_package_build_and_close(request_id=request.pk)
    package = AccessPackage.objects.select_related("request").get(request=request)
    code = _send_code(client, package)
    page = client.get(_page(package)).content.decode()
    files = client.post(_page(package), {"action": "verify", "code": code})
    files_page = client.get(files["Location"]).content.decode()

    # when the letter is asked for with its link
    token = files["Location"].rstrip("/").rsplit("/", 1)[1]
    response = client.get(f"/privacy/package/letter/{token}/")

    # then there is none to offer or serve
    assert "letter as a PDF" not in page
    assert 'data-testid="download-letter"' not in files_page
    assert 'data-testid="download-zip"' in files_page
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=LETTER_DOWNLOADED).exists()


def test_package_from_before_keeps_its_own_letter_pdf(client, package) -> None:
    # given a package built when the ZIP still held letter.pdf
    original = io.BytesIO()
    with default_storage.open(package.file, "rb") as handle:
        original.write(handle.read())
    old_pdf = b"%PDF-1.7 the letter as it was built\n%%EOF\n"
    with zipfile.ZipFile(original, "a") as archive:
        archive.writestr("letter.pdf", old_pdf)
    default_storage.delete(package.file)
    default_storage.save(package.file, ContentFile(original.getvalue()))

    # when the letter is asked for
    body = b"".join(client.get(_letter_link(client, package)).streaming_content)

    # then that PDF is served as it is
    assert body == old_pdf


def test_purge_deletes_the_kept_letter_with_the_package(
    client, package, media, settings, django_capture_on_commit_callbacks
) -> None:
    # given a letter drawn and kept
    link = _letter_link(client, package)
    b"".join(client.get(link).streaming_content)
    package.refresh_from_db()
    kept = media / package.letter_file
    assert kept.exists()

    # when the package reaches its end date
    later = timezone.now() + timedelta(days=settings.ACCESS_PACKAGE_KEEP_DAYS + 1)
    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert access_packages_purge_expired() == 1
        response = client.get(link)

    # then the letter goes with it
    package.refresh_from_db()
    assert (package.file, package.letter_file) == ("", "")
    assert not kept.exists()
    assert response.status_code == 410


# --- staff, in the dashboard --------------------------------------------------------


def test_staff_download_the_letter_from_the_request_page(package, auditor) -> None:
    # given an auditor on the request page
    client = _staff(auditor)
    url = f"/dashboard/requests/{package.request.public_id}/letter.pdf"
    page = client.get(f"/dashboard/requests/{package.request.public_id}/")
    assert url in page.content.decode()

    # when they download the letter
    response = client.get(url)

    # then it is the package's letter as a PDF, audited under their name
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")
    assert _normal("Answering your support questions") in _normal(flat_text(body))
    event = AuditEvent.objects.get(action=LETTER_DOWNLOADED)
    assert event.actor == f"user:{auditor.pk}"
    assert event.data["sha256"] == hashlib.sha256(body).hexdigest()
    assert response["X-Letter-SHA256"] == event.data["sha256"]


def test_staff_without_a_role_get_no_letter(package, django_user_model) -> None:
    # given a staff login with no role
    no_role = django_user_model.objects.create_user(
        username="nora.norole", password="pw-for-tests-123"
    )

    # when
    response = _staff(no_role).get(
        f"/dashboard/requests/{package.request.public_id}/letter.pdf"
    )

    # then refused, and nothing drawn or audited
    assert response.status_code == 403
    package.refresh_from_db()
    assert package.letter_file == ""
    assert not AuditEvent.objects.filter(action=LETTER_DOWNLOADED).exists()


def test_request_page_offers_no_letter_before_the_package(
    make_request, officer
) -> None:
    # given an access request still in progress
    request = make_request(verified=True)

    # when
    page = _staff(officer).get(f"/dashboard/requests/{request.public_id}/")

    # then
    assert "letter.pdf" not in page.content.decode()
