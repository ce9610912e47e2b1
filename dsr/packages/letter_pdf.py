"""The access letter as a PDF, drawn from the letter.html of a stored package.

The package build writes the letter only as HTML (a PDF cost several times
the rest of the build). Whoever wants a PDF gets one drawn from that same
letter.html, so it says exactly what the package says. Packages built before
the PDF left the build still hold their letter.pdf: that file is used as is.
"""

from __future__ import annotations

import zipfile

from django.core.files.storage import default_storage

from privacydesk.pdf import pdf_font_config

LETTER_HTML = "letter.html"
LETTER_PDF = "letter.pdf"  # only in packages built before it left the build


class NoLetter(Exception):
    """The stored package holds no letter (a portability export)."""


def letter_pdf_from_package(package_file: str) -> bytes:
    """The letter of the stored ZIP `package_file` as a PDF.

    Reads one entry of the ZIP (its directory, then that entry), never the
    subject's records."""
    with default_storage.open(package_file, "rb") as handle:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
            if LETTER_PDF in names:
                return archive.read(LETTER_PDF)
            if LETTER_HTML not in names:
                raise NoLetter(package_file)
            letter_html = archive.read(LETTER_HTML).decode()
    return letter_pdf_render(letter_html)


def letter_pdf_render(letter_html: str) -> bytes:
    """The letter as a PDF (its print CSS makes it A4)."""
    # Local: WeasyPrint takes ~0.8 s to import; web processes load this module.
    from weasyprint import HTML

    pdf: bytes = HTML(string=letter_html).write_pdf(font_config=pdf_font_config())
    return pdf
