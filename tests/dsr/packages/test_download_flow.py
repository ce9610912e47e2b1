"""The portal's download flow: a fresh code, a signed link, an audited download."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dsr.links import status_token
from dsr.models import AccessPackage
from dsr.services.packages import (
    access_package_build_and_close,
    access_packages_purge_expired,
)
from privacydesk import crypto

CODE = re.compile(r"Your code: (\d{6})")


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


def _send_code(client, package: AccessPackage) -> str:
    response = client.post(_page(package), {"action": "resend", "code": ""})
    assert response.status_code == 302
    match = CODE.search(mail.outbox[-1].body)
    assert match, "no code in the e-mail"
    return match.group(1)


def _download_url(client, package: AccessPackage) -> str:
    """The ZIP's link on the downloads page the right code opens."""
    code = _send_code(client, package)
    response = client.post(_page(package), {"action": "verify", "code": code})
    assert response.status_code == 302
    return _zip_link(client, response["Location"])


def _zip_link(client, files_page: str) -> str:
    assert files_page.startswith("/privacy/package/files/")
    page = client.get(files_page)
    assert page.status_code == 200
    token = files_page.rstrip("/").rsplit("/", 1)[1]
    link = f"/privacy/package/download/{token}/"
    assert f'href="{link}"' in page.content.decode()
    return link


def test_code_then_signed_link_downloads_the_zip(client, package):
    # given the page the "ready" e-mail links to
    page = client.get(_page(package))
    assert page.status_code == 200
    assert "Send me a code" in page.content.decode()

    # when the subject asks for a code
    code = _send_code(client, package)

    # then it is e-mailed to the requester, and only its hash is stored
    message = mail.outbox[-1]
    assert message.to == ["ada.lovelace@example.com"]
    assert package.request.reference in message.subject
    challenge = package.request.challenges.get(purpose="download")
    assert code not in challenge.code_hash

    # when a wrong code is typed
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(_page(package), {"action": "verify", "code": wrong})

    # then it is refused and counted, and no link is given
    assert refused.status_code == 400
    assert "not right" in refused.content.decode()
    challenge.refresh_from_db()
    assert challenge.attempts == 1
    assert not AuditEvent.objects.filter(action="access_package.link_issued").exists()

    # when the right code is typed
    accepted = client.post(_page(package), {"action": "verify", "code": code})

    # then the downloads page follows, and its ZIP link is the stored ZIP
    assert accepted.status_code == 302
    link = _zip_link(client, accepted["Location"])
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{package.request.reference}-access-package.zip"'
    )
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == package.sha256
    package.refresh_from_db()
    assert package.download_count == 1
    assert package.last_downloaded_at is not None
    event = AuditEvent.objects.get(action="access_package.downloaded")
    assert event.actor == f"subject:{package.request.public_id}"
    assert event.object_id == str(package.request.public_id)
    assert event.data["sha256"] == package.sha256


def test_a_code_works_once(client, package):
    # given a code that was used
    code = _send_code(client, package)
    client.post(_page(package), {"action": "verify", "code": code})

    # when it is typed again
    again = client.post(_page(package), {"action": "verify", "code": code})

    # then it is refused as used, not as expired
    assert again.status_code == 400
    assert "used already" in again.content.decode()
    assert AuditEvent.objects.filter(action="access_package.link_issued").count() == 1


def test_too_many_wrong_codes_lock_the_code(client, package, settings):
    # given
    code = _send_code(client, package)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.PORTAL_CODE_MAX_ATTEMPTS):
        client.post(_page(package), {"action": "verify", "code": wrong})

    # when even the right code comes
    late = client.post(_page(package), {"action": "verify", "code": code})

    # then
    assert late.status_code == 400
    assert "too many wrong codes" in late.content.decode().lower()


def test_resend_is_throttled(client, package):
    # given
    _send_code(client, package)

    # when
    again = client.post(_page(package), {"action": "resend", "code": ""})

    # then
    assert again.status_code == 400
    assert "a code was just sent" in again.content.decode().lower()
    assert len(mail.outbox) == 1


def test_verification_code_does_not_open_the_package(client, package):
    # given a code hashed the way identity-verification codes are
    request = package.request
    request.challenges.create(
        purpose="download",
        code_hash=crypto.keyed_hash("123456", purpose=f"otp:{request.public_id}"),
        expires_at=timezone.now() + timedelta(minutes=5),
        sent_at=timezone.now() - timedelta(minutes=5),
    )

    # when
    response = client.post(_page(package), {"action": "verify", "code": "123456"})

    # then
    assert response.status_code == 400


def test_download_link_expires(client, package, settings):
    # given a link issued now
    link = _download_url(client, package)

    # when it is opened after ACCESS_PACKAGE_LINK_DAYS
    later = timezone.now() + timedelta(days=settings.ACCESS_PACKAGE_LINK_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        response = client.get(link)

    # then it is gone, said clearly, and nothing was downloaded
    assert response.status_code == 410
    assert "This download link has expired" in response.content.decode()
    package.refresh_from_db()
    assert package.download_count == 0
    assert not AuditEvent.objects.filter(action="access_package.downloaded").exists()

    # and within its time it works
    within = timezone.now() + timedelta(days=settings.ACCESS_PACKAGE_LINK_DAYS - 1)
    with time_machine.travel(within, tick=False):
        assert client.get(link).status_code == 200


def test_forged_download_link_is_not_found(client, package):
    # given a link with its signature changed
    link = _download_url(client, package)

    # when
    response = client.get(link[:-3] + "xyz/")

    # then
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_purged_package_is_gone(
    client, package, media, settings, django_capture_on_commit_callbacks
):
    # given a package past its end date, purged by the nightly job
    link = _download_url(client, package)
    later = timezone.now() + timedelta(days=settings.ACCESS_PACKAGE_KEEP_DAYS + 1)
    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert access_packages_purge_expired() == 1

        # when
        page = client.get(_page(package))
        download = client.get(link)

    # then the file is deleted, its facts are kept, and both pages say so
    package.refresh_from_db()
    assert package.file == ""
    assert package.purged_at is not None
    assert package.sha256
    assert list((media / "access-packages").rglob("*.zip")) == []
    assert page.status_code == 410
    assert download.status_code == 410
    assert AuditEvent.objects.filter(action="access_package.purged").count() == 1


def test_package_page_before_the_package_exists(client, make_request):
    # given an access request still in progress
    request = make_request(verified=True)

    # when
    response = client.get(
        reverse("portal:package", args=[status_token(str(request.public_id))])
    )

    # then
    assert response.status_code == 200
    assert "not ready yet" in response.content.decode()


def test_package_page_of_another_kind_of_request_is_not_found(client, make_request):
    # given
    request = make_request(kind="erasure", verified=True)

    # when
    response = client.get(
        reverse("portal:package", args=[status_token(str(request.public_id))])
    )

    # then
    assert response.status_code == 404


def test_ready_email_links_to_the_package_page(
    client, answered_request, django_capture_on_commit_callbacks
):
    # given
    request = answered_request()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        access_package_build_and_close(request_id=request.pk)

    # then both parts carry the page's link, which works and names nobody
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "Your data is ready" in message.subject
    match = re.search(r"https?://[^/\s]+(/privacy/package/[^/\s]+/)", message.body)
    assert match, "no package link in the e-mail"
    page = match.group(1)
    assert page in html
    assert "ada" not in page.lower()
    assert client.get(page).status_code == 200
