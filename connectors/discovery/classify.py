"""Classifying a column from its name, its type and a sample of its values.

The values go through the one detector `redact_pii` uses
(`connectors.redaction.detect`): the share of samples that *are* an e-mail
or a phone number, the share that hold any PII inside longer text, and a
person-name shape (the detector knows names only as a subject's own, so a
name column is told by its shape and its name). What comes out is a
category, the reason and counts: never a value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.redaction import detect
from connectors.redaction_engines import ADDRESS, EMAIL, PHONE

# Categories a column can get.
EMAIL_CATEGORY = "email"
PHONE_CATEGORY = "phone"
NAME_CATEGORY = "name"
ADDRESS_CATEGORY = "address"
FREE_TEXT_PII = "free_text_pii"
FREE_TEXT = "free_text"
IDENTIFIER = "identifier"
FLAG_RESTRICT = "flag_restrict"
FLAG_OBJECTION = "flag_objection"
NOT_PERSONAL = "not_personal"
CATEGORIES = (
    EMAIL_CATEGORY,
    PHONE_CATEGORY,
    NAME_CATEGORY,
    ADDRESS_CATEGORY,
    FREE_TEXT_PII,
    FREE_TEXT,
    IDENTIFIER,
    FLAG_RESTRICT,
    FLAG_OBJECTION,
    NOT_PERSONAL,
)
# What a re-scan flags when the map does not cover it.
PERSONAL = frozenset(
    {EMAIL_CATEGORY, PHONE_CATEGORY, NAME_CATEGORY, ADDRESS_CATEGORY, FREE_TEXT_PII}
)

# Share of samples that must be an e-mail / phone / name for the column to be one.
WHOLE_VALUE_SHARE = 0.6
# Share of free-text samples holding any PII for the text to count as personal.
TEXT_PII_SHARE = 0.1

_WORDS = re.compile(r"[a-z0-9]+")
_NAME_SHAPE = re.compile(r"[A-ZÀ-Ý][a-zà-ÿ'’\-]+(?: [A-ZÀ-Ý][a-zà-ÿ'’\-]+){1,3}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{2,63}")
EMAIL_HINTS = {"email", "mail", "e_mail", "emailaddress"}
PHONE_HINTS = {"phone", "mobile", "tel", "telephone", "msisdn", "cell", "fax"}
NAME_HINTS = {"name", "firstname", "lastname", "fullname", "surname", "forename"}
NOT_NAME = {"username", "filename", "hostname", "tablename", "productname"}
ADDRESS_HINTS = {"address", "street", "city", "postcode", "zip", "zipcode", "postal"}
TEXT_HINTS = {
    "body",
    "text",
    "message",
    "content",
    "transcript",
    "comment",
    "note",
    "notes",
    "description",
    "summary",
    "subject",
    "title",
    "prompt",
    "completion",
    "reply",
}
ID_HINTS = {"crm", "external", "ref", "reference", "customer", "account", "member"}
RESTRICT_HINTS = ("restrict",)
OBJECTION_HINTS = ("object", "opted_out_processing")


@dataclass
class ColumnFinding:
    """What discovery concluded about one column (no values)."""

    name: str
    type_name: str
    category: str
    reason: str
    sampled: int = 0
    hits: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type_name,
            "category": self.category,
            "reason": self.reason,
            "sampled": self.sampled,
            "hits": dict(sorted(self.hits.items())),
        }


def _words(name: str) -> list[str]:
    split = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return _WORDS.findall(split)


def _hinted(words: list[str], joined: str, hints: set[str]) -> bool:
    return joined in hints or any(word in hints for word in words)


def classify_column(
    name: str, type_name: str, *, textual: bool, samples: Sequence[str]
) -> ColumnFinding:
    """The category of one column from its name, type and sampled values."""
    words = _words(name)
    joined = "".join(words)
    finding = ColumnFinding(name, type_name, NOT_PERSONAL, "", sampled=len(samples))
    if "bool" in type_name or type_name in ("tinyint(1)",):
        if any(h in name.lower() for h in RESTRICT_HINTS):
            finding.category, finding.reason = (
                FLAG_RESTRICT,
                "flag named for restriction",
            )
        elif any(h in name.lower() for h in OBJECTION_HINTS):
            finding.category, finding.reason = (
                FLAG_OBJECTION,
                "flag named for objection",
            )
        return finding
    counts: Counter[str] = Counter()
    whole: Counter[str] = Counter()
    any_pii = names = ids = long_texts = spaced = 0
    for value in samples:
        text = value.strip()
        found = detect(text)
        kinds = {item.entity for item in found}
        counts.update(kinds)
        any_pii += bool(found)
        if len(found) == 1 and found[0].start == 0 and found[0].end >= len(text) - 1:
            whole[found[0].entity] += 1
        if _NAME_SHAPE.fullmatch(text):
            names += 1
        if _TOKEN_ID.fullmatch(text) and any(ch.isdigit() for ch in text):
            ids += 1
        if len(text) >= 40 and text.count(" ") >= 5:
            long_texts += 1
        if " " in text:
            spaced += 1
    finding.hits = {k: v for k, v in counts.items() if v}
    total = len(samples)

    def share(count: int) -> float:
        return count / total if total else 0.0

    if _hinted(words, joined, EMAIL_HINTS) or share(whole[EMAIL]) >= WHOLE_VALUE_SHARE:
        finding.category = EMAIL_CATEGORY
        finding.reason = _reason(
            share(whole[EMAIL]), "e-mail", total, words, EMAIL_HINTS
        )
    elif (
        _hinted(words, joined, PHONE_HINTS) or share(whole[PHONE]) >= WHOLE_VALUE_SHARE
    ):
        finding.category = PHONE_CATEGORY
        finding.reason = _reason(
            share(whole[PHONE]), "phone", total, words, PHONE_HINTS
        )
    elif (
        joined not in NOT_NAME
        and textual
        and (_hinted(words, joined, NAME_HINTS) or share(names) >= WHOLE_VALUE_SHARE)
        and share(long_texts) < 0.5
    ):
        finding.category = NAME_CATEGORY
        finding.reason = _reason(share(names), "name-shaped", total, words, NAME_HINTS)
    elif _hinted(words, joined, ADDRESS_HINTS) or (
        share(whole[ADDRESS]) >= WHOLE_VALUE_SHARE
    ):
        finding.category = ADDRESS_CATEGORY
        finding.reason = _reason(
            share(whole[ADDRESS]), "address", total, words, ADDRESS_HINTS
        )
    elif textual and (
        _hinted(words, joined, TEXT_HINTS) or share(long_texts) >= WHOLE_VALUE_SHARE
    ):
        if share(any_pii) >= TEXT_PII_SHARE:
            finding.category = FREE_TEXT_PII
            finding.reason = f"free text; {any_pii} of {total} samples hold PII"
        else:
            finding.category = FREE_TEXT
            finding.reason = (
                f"free text; no PII in {total} samples" if total else "free text"
            )
    elif textual and share(any_pii) >= TEXT_PII_SHARE and share(spaced) >= 0.5:
        finding.category = FREE_TEXT_PII
        finding.reason = f"text; {any_pii} of {total} samples hold PII"
    elif (
        textual
        and ("id" in words or _hinted(words, joined, ID_HINTS))
        and total
        and share(ids) >= WHOLE_VALUE_SHARE
    ):
        finding.category = IDENTIFIER
        finding.reason = f"id-like: {ids} of {total} samples"
    return finding


def _reason(
    value_share: float, what: str, total: int, words: list[str], hints: set[str]
) -> str:
    parts = []
    if any(word in hints for word in words) or "".join(words) in hints:
        parts.append("column name")
    if total and value_share:
        parts.append(f"{round(value_share * 100)}% of {total} samples {what}")
    return "; ".join(parts) or what
