"""Facts in, PDF out: the template, WeasyPrint, PDF/A-3b and evidence.json.

The template renders from the very dict that is embedded, so what a person
reads and what a program checks are the same facts. The facts' digest is
printed on the cover, in every page footer and in the PDF's Keywords.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from evidence.packs.canonical import ATTACHMENT_NAME, KEYWORD_PREFIX, document_bytes
from privacydesk.pdf import pdf_font_config

logger = logging.getLogger(__name__)
# WeasyPrint reports each layout step at INFO; keep its warnings, not that.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# PDF/A-3 is the archival variant that allows an attached file (the JSON),
# declared with the relationship "Data": the facts the pages present.
PDF_VARIANT = "pdf/a-3b"
STYLESHEET = "evidence/pack/_style.css"
TEMPLATES = {
    "request": "evidence/request_pack.html",
    "purge_run": "evidence/purge_pack.html",
    "access_review": "evidence/access_review_pack.html",
}


def _one_af_entry_per_file(pdf: Any) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF array
    under PDF/A-3 (Kozea/WeasyPrint#2917); keep one entry per file."""
    entries = pdf.catalog.get("AF")
    if entries:
        unique = list(dict.fromkeys(entries))
        entries.clear()
        entries.extend(unique)


@functools.cache
def _deflated_once(kind: type) -> type:
    """`kind` (a pydyf stream class) with its bytes, deflated at level 9, made
    once. pydyf 0.13 makes them each time `data` is read, and a PDF/A file
    reads them twice: to write the file and to hash it for its /ID. The
    second deflate cost 15 ms of a simple pack's CPU and 65 ms of a 10-store
    one's; the bytes are the same."""

    def data(self: Any) -> bytes:
        made: bytes | None = self.__dict__.get("_made")
        if made is None:
            made = self.__dict__["_made"] = kind.data.fget(self)  # type: ignore[attr-defined]
        return made

    return type(f"{kind.__name__}DeflatedOnce", (kind,), {"data": property(data)})


def _finish(document: Any, pdf: Any) -> None:
    """Run on the finished pydyf document, just before it is written."""
    import pydyf

    _one_af_entry_per_file(pdf)
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream):  # pages' streams are a subclass
            item.__class__ = _deflated_once(item.__class__)


@functools.cache
def _stylesheet() -> Any:
    """The packs' stylesheet, parsed once per process with the process's font
    configuration (parsing it costs about 15 ms of CPU each time)."""
    from weasyprint import CSS

    return CSS(string=render_to_string(STYLESHEET), font_config=pdf_font_config())


@dataclass(frozen=True)
class RenderedPack:
    """A finished PDF and what identifies it."""

    content: bytes
    sha256: str
    size: int
    pages: int
    facts_sha256: str
    pdf_variant: str


def _headers(facts: dict[str, Any]) -> tuple[str, str]:
    controller = facts["pack"]["controller"]
    if facts["kind"] == "request":
        return (
            f"{controller} · Evidence pack · Data-subject request",
            facts["request"]["reference"],
        )
    if facts["kind"] == "access_review":
        return (
            f"{controller} · Evidence pack · Access review",
            f"review {facts['review']['id'][:8]}",
        )
    return (
        f"{controller} · Evidence pack · Retention purge run",
        f"{facts['run']['policy']} · run {facts['run']['id'][:8]}",
    )


def evidence_pack_render(
    *,
    facts: dict[str, Any],
    template: str | None = None,
    headers: tuple[str, str] | None = None,
) -> RenderedPack:
    """Render one pack; the PDF embeds `evidence.json` (the facts, sealed).

    A pack of a kind this app does not know of (the records of processing,
    the breach register: apps above this one) brings its own `template` and
    page `headers` (left, right); its facts keep the shape the verifier reads
    (`pack`, `audit`)."""
    # Local: WeasyPrint takes ~0.8 s to import; web processes load this module.
    from weasyprint import HTML, Attachment

    attachment, digest = document_bytes(facts)
    header_left, header_right = headers or _headers(facts)
    generated_at = datetime.fromisoformat(facts["pack"]["generated_at"]).astimezone(UTC)
    html = render_to_string(
        template or TEMPLATES[facts["kind"]],
        {
            "facts": facts,
            "internal": bool(facts["pack"].get("internal")),
            "digest": digest,
            "digest_short": digest[:16],
            "keywords": f"{KEYWORD_PREFIX}{digest}",
            "header_left": header_left,
            "header_right": header_right,
            "created_w3c": f"{generated_at:%Y-%m-%dT%H:%M:%SZ}",
        },
    )
    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render(
        stylesheets=[_stylesheet()], font_config=pdf_font_config()
    )
    content = document.write_pdf(
        attachments=[
            Attachment(
                string=attachment.decode(),
                name=ATTACHMENT_NAME,
                description="The facts of this evidence pack, machine-readable",
                relationship="Data",
                created=generated_at,
                modified=generated_at,
            )
        ],
        pdf_variant=PDF_VARIANT,
        finisher=_finish,
    )
    return RenderedPack(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        pages=len(document.pages),
        facts_sha256=digest,
        pdf_variant=PDF_VARIANT,
    )
