"""Checking an evidence pack against the audit chain, trusting nothing in it.

What is checked, each reported on its own line when it differs:

1. `evidence.json` is attached and its facts hash to the digest it states,
   and that digest is the one printed on the pages (PDF Keywords, cover);
2. every audit event it lists hashes to the hash it lists (its copy is
   intact), is present in the chain with that same hash, and the stored row
   still produces that hash (the row is unaltered);
3. the chain links through them: every event from the first listed one up to
   the recorded head is present, in sequence, each linking to the one before,
   and the head still has the hash recorded at generation time;
4. this file's own SHA-256 was written to the chain when it was generated.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from audit.chain import GENESIS_HASH, canonical_event, event_hash, hash_of
from audit.models import AuditEvent
from evidence.packs.canonical import (
    ATTACHMENT_NAME,
    FORMAT,
    KEYWORD_PREFIX,
    facts_digest,
)

MAX_PROBLEMS = 50
_FIELDS = ("occurred_at", "actor", "action", "object_type", "object_id", "data")


@dataclass
class VerificationReport:
    """What was confirmed and what differs; `ok` only if nothing differs."""

    subject: str = ""  # "request DSR-2026-000123" or "purge run <id>"
    generated_at: str = ""
    pack_id: str = ""
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def differs(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("… and more differences (stopped listing)")


def embedded_document(content: bytes) -> tuple[Any, Any]:
    """(PdfReader, the parsed evidence.json) of a PDF; raises ValueError."""
    try:
        reader = PdfReader(io.BytesIO(content))
        attachments = reader.attachments
        found = (
            attachments.get(ATTACHMENT_NAME) if ATTACHMENT_NAME in attachments else None
        )
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a readable PDF ({type(error).__name__})") from error
    if not found:
        raise ValueError(f"no embedded {ATTACHMENT_NAME}: not an evidence pack")
    try:
        document = json.loads(found[0])
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"the embedded {ATTACHMENT_NAME} is not valid JSON") from error
    return reader, document


def evidence_pack_verify(*, content: bytes) -> VerificationReport:
    """Check a pack's bytes against this Privacy Desk's audit chain."""
    report = VerificationReport()
    try:
        reader, document = embedded_document(content)
    except ValueError as error:
        report.differs(str(error))
        return report
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        report.differs(f"{ATTACHMENT_NAME} is not in the format {FORMAT}")
        return report
    facts = document.get("facts")
    if not isinstance(facts, dict):
        report.differs(f"{ATTACHMENT_NAME} carries no facts")
        return report
    _describe(report, facts)
    claimed = str((document.get("digest") or {}).get("value", ""))
    _check_digest(report, reader, facts, claimed)
    try:
        audit = facts["audit"]
        listed = list(audit["events"])
        head = dict(audit["chain_head"])
        _check_events(report, listed)
        _check_links(report, listed, head)
    except (KeyError, TypeError, ValueError) as error:
        report.differs(f"the audit part of {ATTACHMENT_NAME} is malformed ({error!r})")
    _check_registered(report, content, claimed)
    return report


def _describe(report: VerificationReport, facts: dict[str, Any]) -> None:
    pack = facts.get("pack") or {}
    report.pack_id = str(pack.get("id", ""))
    report.generated_at = str(pack.get("generated_at", ""))
    if pack.get("covers"):  # a pack made above evidence names what it covers
        report.subject = str(pack["covers"])
    elif facts.get("kind") == "request":
        report.subject = f"request {(facts.get('request') or {}).get('reference', '?')}"
    elif facts.get("kind") == "access_review":
        review_id = (facts.get("review") or {}).get("id", "?")
        report.subject = f"access review {review_id}"
    else:
        report.subject = f"purge run {(facts.get('run') or {}).get('id', '?')}"


def _check_digest(
    report: VerificationReport, reader: Any, facts: dict[str, Any], claimed: str
) -> None:
    actual = facts_digest(facts)
    if actual != claimed:
        report.differs(
            f"JSON digest mismatch: the embedded facts hash to {actual}, "
            f"but {ATTACHMENT_NAME} states {claimed or 'nothing'}"
        )
    else:
        report.checks.append(f"facts digest {claimed} matches {ATTACHMENT_NAME}")
    keywords = str((reader.metadata or {}).get("/Keywords", "") or "")
    printed = keywords.removeprefix(KEYWORD_PREFIX).strip()
    cover = (
        "".join((reader.pages[0].extract_text() or "").split()) if reader.pages else ""
    )
    if printed != claimed or claimed not in cover:
        report.differs(
            f"the pages state facts digest {printed or 'nothing'}, "
            f"{ATTACHMENT_NAME} states {claimed or 'nothing'}"
        )
    else:
        report.checks.append("the pages print the same facts digest")


def _own_hash(item: dict[str, Any]) -> str:
    """The hash of the pack's copy of an event, recomputed from its fields."""
    canonical = canonical_event(
        sequence=int(item["sequence"]),
        occurred_at=datetime.fromisoformat(item["occurred_at"]),
        actor=item["actor"],
        action=item["action"],
        object_type=item["object_type"],
        object_id=item["object_id"],
        data=item["data"],
    )
    return event_hash(str(item["prev_hash"]), canonical)


def _row_fields(row: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": row.occurred_at.isoformat(timespec="microseconds"),
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "data": row.data,
    }


def _check_events(report: VerificationReport, listed: list[dict[str, Any]]) -> None:
    sequences = [int(item["sequence"]) for item in listed]
    rows = {
        row.sequence: row for row in AuditEvent.objects.filter(sequence__in=sequences)
    }
    intact = 0
    for item in listed:
        number = int(item["sequence"])
        bad = False
        if _own_hash(item) != item["hash"]:
            report.differs(
                f"event #{number}: the pack's copy no longer produces the hash it "
                f"lists ({ATTACHMENT_NAME} was altered)"
            )
            bad = True
        row = rows.get(number)
        if row is None:
            report.differs(f"event #{number} is missing from the audit chain")
            continue
        if row.hash != item["hash"]:
            report.differs(
                f"event #{number} hash mismatch: the chain has {row.hash}, "
                f"the pack lists {item['hash']}"
            )
            bad = True
        if hash_of(row) != row.hash:
            changed = [
                name
                for name, value in _row_fields(row).items()
                if item.get(name) != value
            ]
            report.differs(
                f"event #{number} was altered in the database: its stored fields "
                f"no longer produce its hash"
                + (
                    f" (differs from the pack in: {', '.join(changed)})"
                    if changed
                    else ""
                )
            )
            bad = True
        intact += not bad
    if listed and intact == len(listed):
        report.checks.append(
            f"{len(listed)} audit event(s) present in the chain, unaltered, "
            "with the hashes the pack lists"
        )


def _check_links(
    report: VerificationReport, listed: list[dict[str, Any]], head: dict[str, Any]
) -> None:
    head_sequence = int(head["sequence"])
    head_hash = str(head["hash"])
    if head_sequence == 0:
        return
    start = min((int(item["sequence"]) for item in listed), default=head_sequence)
    if start == 1:
        previous = GENESIS_HASH
    else:
        before = AuditEvent.objects.filter(sequence=start - 1).only("hash").first()
        if before is None:
            report.differs(f"broken link at #{start}: event #{start - 1} is missing")
            previous = ""
        else:
            previous = before.hash
    listed_numbers = {int(item["sequence"]) for item in listed}
    expected = start
    links_ok = True
    rows = (
        AuditEvent.objects.filter(sequence__gte=start, sequence__lte=head_sequence)
        .order_by("sequence")
        .iterator(chunk_size=2000)
    )
    for row in rows:
        if row.sequence != expected:
            report.differs(
                f"broken link at #{expected}: event(s) #{expected}"
                + (f"–#{row.sequence - 1}" if row.sequence - 1 > expected else "")
                + " missing from the chain"
            )
            links_ok = False
        elif previous and row.prev_hash != previous:
            report.differs(
                f"broken link at #{row.sequence}: it does not link to event "
                f"#{row.sequence - 1}"
            )
            links_ok = False
        if row.sequence not in listed_numbers and hash_of(row) != row.hash:
            report.differs(
                f"event #{row.sequence} (between the pack's events) was altered: "
                "its content no longer matches its hash"
            )
            links_ok = False
        previous = row.hash
        expected = row.sequence + 1
    if expected <= head_sequence:
        report.differs(
            f"broken link at #{expected}: events #{expected}–#{head_sequence} "
            "missing from the chain"
        )
        links_ok = False
    head_row = AuditEvent.objects.filter(sequence=head_sequence).only("hash").first()
    if head_row is None:
        report.differs(f"chain head #{head_sequence} is missing from the chain")
        links_ok = False
    elif head_row.hash != head_hash:
        report.differs(
            f"chain head #{head_sequence} differs: the chain has {head_row.hash}, "
            f"the pack recorded {head_hash}"
        )
        links_ok = False
    if links_ok:
        report.checks.append(
            f"the chain links from event #{start} through head #{head_sequence}, "
            "which still has the recorded hash"
        )


def _check_registered(report: VerificationReport, content: bytes, claimed: str) -> None:
    digest = hashlib.sha256(content).hexdigest()
    event = (
        AuditEvent.objects.filter(action="evidence_pack.generated", data__sha256=digest)
        .order_by("sequence")
        .first()
    )
    if event is None:
        report.differs(
            f"this file's SHA-256 {digest} is not recorded in the audit chain: "
            "it changed after it was generated, or was not generated here"
        )
        return
    if hash_of(event) != event.hash:
        report.differs(f"event #{event.sequence}, which records this file, was altered")
        return
    if (event.data or {}).get("facts_sha256") != claimed:
        report.differs(
            f"event #{event.sequence} records this file with facts digest "
            f"{(event.data or {}).get('facts_sha256')}, the file states {claimed}"
        )
        return
    report.checks.append(
        f"this file's SHA-256 {digest} was recorded at event #{event.sequence}"
    )
