"""The access letter as a PDF, made when the subject or staff first ask for it.

The package holds the letter as letter.html. The first request for a PDF
draws it from that very file (dsr/packages/letter_pdf.py) and keeps it beside
the ZIP, so every later copy is the same file, whose SHA-256 each download
writes to the audit log. It lives and goes with the ZIP.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from dsr.choices import PackageKind
from dsr.models import AccessPackage
from dsr.packages.letter_pdf import NoLetter, letter_pdf_from_package
from dsr.packages.selectors import access_package_is_available
from privacydesk.errors import IllegalTransition

DOWNLOADED = "access_package.letter_downloaded"


@dataclass(frozen=True)
class LetterPdf:
    """An open letter PDF (the caller closes it) and what identifies it."""

    file: IO[bytes]
    filename: str
    sha256: str
    size: int


def access_package_letter_pdf(*, actor: Actor, package: AccessPackage) -> LetterPdf:
    """The package's letter as a PDF for one download, audited.

    The subject reaches this after a fresh code (portal), staff through the
    request page; both need to be allowed to see the request."""
    actor.require(Perm.REQUEST_VIEW)
    if not access_package_is_available(package=package):
        raise IllegalTransition(
            f"the package of {package.request.reference} is no longer available"
        )
    if package.kind != PackageKind.ACCESS:
        raise IllegalTransition(
            f"{package.request.reference} has a portability export: it has no letter"
        )
    rendered = False
    if not (package.letter_file and default_storage.exists(package.letter_file)):
        _letter_keep(package)
        rendered = True
    handle = default_storage.open(package.letter_file, "rb")
    try:
        size = handle.size
        audit_record(
            actor=actor,
            action=DOWNLOADED,
            obj=package.request,
            data={
                "package": str(package.public_id),
                "sha256": package.letter_sha256,
                "size": size,
                "rendered": rendered,
            },
        )
    except BaseException:
        handle.close()
        raise
    return LetterPdf(
        file=handle,
        filename=package.letter_filename,
        sha256=package.letter_sha256,
        size=size,
    )


def _letter_keep(package: AccessPackage) -> None:
    """Draw the PDF from the stored ZIP and record it, unless someone else
    did meanwhile (then theirs is the one); sets package.letter_*."""
    try:
        content = letter_pdf_from_package(package.file)
    except NoLetter as missing:
        raise IllegalTransition(
            f"the package of {package.request.reference} holds no letter"
        ) from missing
    digest = hashlib.sha256(content).hexdigest()
    name = default_storage.save(
        f"access-packages/{package.request.public_id}/{package.public_id}-letter.pdf",
        ContentFile(content),
    )
    # Only onto a package still stored: a purge that got here first wins.
    recorded = (
        AccessPackage.objects.filter(pk=package.pk, letter_file=package.letter_file)
        .exclude(file="")
        .update(letter_file=name, letter_sha256=digest)
    )
    if recorded == 1:
        package.letter_file, package.letter_sha256 = name, digest
        return
    default_storage.delete(name)
    package.refresh_from_db(fields=["file", "letter_file", "letter_sha256"])
    if not (package.file and package.letter_file):
        raise IllegalTransition(
            f"the package of {package.request.reference} is no longer available"
        )
