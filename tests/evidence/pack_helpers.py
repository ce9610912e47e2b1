"""Reading evidence packs back in tests: page text, the attachment, tampering."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from django.db import connection
from pypdf import PdfReader, PdfWriter

ATTACHMENT = "evidence.json"


def page_texts(content: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]


def flat_text(content: bytes) -> str:
    """All text without whitespace: long hashes survive line breaks."""
    return "".join("".join(page_texts(content)).split())


def shows(flat: str, phrase: str) -> bool:
    """Whether a phrase is on the pages, wherever a table cell wrapped it."""
    return "".join(phrase.split()) in flat


def embedded(content: bytes) -> dict[str, Any]:
    return json.loads(PdfReader(io.BytesIO(content)).attachments[ATTACHMENT][0])


def rewrite_attachment(content: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The same PDF with evidence.json replaced by change(evidence.json)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    for attachment in writer.attachment_list:
        if attachment.name == ATTACHMENT:
            attachment.content = change(attachment.content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tamper(sql: str, params: list[Any]) -> None:
    """Change audit rows behind the application's back, as an attacker with
    SQL would (on PostgreSQL past the append-only trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
            )
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
            )
