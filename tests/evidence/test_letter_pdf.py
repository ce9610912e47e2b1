"""The access package's letter is also a printable PDF."""

from __future__ import annotations

import pytest

from evidence.models import AccessPackage
from evidence.services import access_package_build_and_close
from tests.evidence.conftest import open_package
from tests.evidence.pack_helpers import flat_text, shows

pytestmark = pytest.mark.django_db


def test_package_holds_the_letter_as_a_pdf(answered_request) -> None:
    # given
    request = answered_request()

    # when
    access_package_build_and_close(request_id=request.pk)

    # then
    archive = open_package(AccessPackage.objects.get(request=request))
    letter = archive.read("letter.pdf")
    assert letter.startswith(b"%PDF-")
    flat = flat_text(letter)
    assert shows(flat, "Your request for access to your personal data")
    assert shows(flat, request.reference)
    assert shows(flat, "Helpdesk Cloud Ltd")  # a named recipient (Art. 15(1)(c))
    assert "letter.pdf" in archive.read("index.html").decode()
