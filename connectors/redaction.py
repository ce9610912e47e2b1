"""redact_pii: rewrite free text so it no longer points at the data subject.

Two sources of spans, one rewrite:

- the subject's *known* identifiers (e-mails, phones, customer ids, name
  parts), matched by one compiled regex per subject, tolerant of how people
  type them (case, phone separators, a country code or trunk zero);
- pattern-detected PII from Presidio's analyzer (e-mail, phone, credit card,
  IBAN, IP address, and our order-number recognizer), built offline once per
  process in ``connectors.redaction_engines``.

`detect` resolves overlaps (known identifiers first, then the longest
pattern hit); `redact` writes stable placeholders (`<EMAIL_ADDRESS>`,
`<PHONE_NUMBER>`, `<PERSON>`, `<CUSTOMER_ID>`, ...) over what it found, so
the rest of a transcript stays readable and redacting twice changes nothing.

Cost: texts with no digit and no "@" cannot hold any pattern entity we look
for, so they skip the analyzer and only meet the known-identifier regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from connectors.pii_phones import known_phone_regex, phone_regions
from connectors.redaction_engines import EMAIL, PATTERN_ENTITIES, PHONE, pattern_hits

PERSON = "PERSON"
CUSTOMER_ID = "CUSTOMER_ID"
PLACEHOLDERS = frozenset(
    f"<{entity}>" for entity in [*PATTERN_ENTITIES, PERSON, CUSTOMER_ID]
)
_TRIGGER = re.compile(r"[@\d]")
_NAME_SPLIT = re.compile(r"[\s,;/]+")
_PHONE_SHAPE = re.compile(r"\+?[\d\s().\-/]+")


# --- the subject's known identifiers -------------------------------------------


@dataclass(frozen=True)
class KnownIdentifiers:
    """What we know identifies the subject; compiled once, used per text."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str]) -> KnownIdentifiers:
        """Sort untyped values: "@" → e-mail, phone-shaped with 7+ digits →
        phone, anything else with a digit → customer id, the rest → a name."""
        emails: list[str] = []
        phones: list[str] = []
        ids: list[str] = []
        names: list[str] = []
        for raw in values:
            value = (raw or "").strip()
            if not value:
                continue
            digits = sum(ch.isdigit() for ch in value)
            if "@" in value:
                emails.append(value)
            elif digits >= 7 and _PHONE_SHAPE.fullmatch(value):
                phones.append(value)
            elif digits:
                ids.append(value)
            else:
                names.append(value)
        return cls(tuple(emails), tuple(phones), tuple(ids), tuple(names))

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.customer_ids or self.names)

    def including(self, other: KnownIdentifiers) -> KnownIdentifiers:
        """These identifiers and `other`'s; `self` itself when `other` adds
        none (so its compiled pattern serves again)."""
        kinds = ("emails", "phones", "customer_ids", "names")
        if all(set(getattr(other, k)) <= set(getattr(self, k)) for k in kinds):
            return self
        return KnownIdentifiers(
            **{
                k: tuple(sorted(set(getattr(self, k)) | set(getattr(other, k))))
                for k in kinds
            }
        )

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        groups = [
            (EMAIL, {_email_regex(v) for v in self.emails}),
            (PHONE, {r for r in map(_phone_regex, self.phones) if r}),
            (CUSTOMER_ID, {_word_regex(v) for v in self.customer_ids}),
            (PERSON, {_word_regex(p) for p in _name_parts(self.names)}),
        ]
        # Longest first, so "Jane Doe" wins over "Jane" at the same position.
        alternatives = [
            f"(?P<{entity}>{'|'.join(sorted(regexes, key=lambda r: (-len(r), r)))})"
            for entity, regexes in groups
            if regexes
        ]
        if not alternatives:
            return None
        return re.compile("|".join(alternatives), re.IGNORECASE)

    def spans(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, entity) of every known identifier in `text`."""
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text):
            start, end = match.span()
            # A name part like "Person" must not eat our own placeholder.
            if text[start - 1 : end + 1].upper() in PLACEHOLDERS:
                continue
            yield start, end, match.lastgroup or PERSON

    def found_in(self, text: str | None) -> bool:
        """Whether `text` still holds any known identifier (for verification)."""
        if not text:
            return False
        return next(self.spans(text), None) is not None


def _email_regex(value: str) -> str:
    return rf"(?<![\w.+\-]){re.escape(value)}(?![\w\-]|\.\w)"


def _word_regex(value: str) -> str:
    return rf"(?<!\w){re.escape(value)}(?!\w)"


def _name_parts(names: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for name in names:
        words = [w.strip(".'\"()") for w in _NAME_SPLIT.split(name.strip())]
        words = [w for w in words if len(w) >= 2]
        if len(words) > 1:
            parts.add(" ".join(words))
        for word in words:
            parts.add(word)
            parts.update(p for p in word.split("-") if len(p) >= 2)
    return parts


def _phone_regex(value: str) -> str | None:
    return known_phone_regex(value, phone_regions())


@lru_cache(maxsize=256)
def _known_from_values(values: tuple[str, ...]) -> KnownIdentifiers:
    return KnownIdentifiers.parse(values)


# --- the one detector, and redact_pii on it ----------------------------------


@dataclass(frozen=True)
class Detected:
    """One piece of PII found in a text: `text[start:end]` is an `entity`."""

    start: int
    end: int
    entity: str
    known: bool  # one of the subject's own identifiers, not only a pattern


def detect(
    text: str, *, known: KnownIdentifiers | Iterable[str] = ()
) -> list[Detected]:
    """Every piece of PII in `text`, in order and never overlapping: of two
    overlapping hits the longer wins ("jane.doe@example.com" over the name
    "jane" inside it), the subject's known identifier on a tie. A hit that
    covers one of the subject's known identifiers is marked `known`.

    `known` is a KnownIdentifiers (compile it once for many texts) or plain
    values, sorted into kinds by `KnownIdentifiers.parse`. The masking
    gateway and `redact` share this one detector, so their figures are the
    same."""
    if not text:
        return []
    identifiers = (
        known
        if isinstance(known, KnownIdentifiers)
        else _known_from_values(tuple(known))
    )
    # (start, end, entity, known) until the answer: a Detected costs more
    # to build than the checks below, and most candidates are dropped.
    own = [(start, end, entity, True) for start, end, entity in identifiers.spans(text)]
    found = list(own)
    if _TRIGGER.search(text):
        found += [
            (start, end, entity, False) for start, end, entity in pattern_hits(text)
        ]
    kept: list[tuple[int, int, str, bool]] = []
    for candidate in sorted(found, key=lambda d: (d[0] - d[1], not d[3])):
        start, end = candidate[0], candidate[1]
        if all(end <= k[0] or start >= k[1] for k in kept):
            kept.append(candidate)
    kept.sort(key=lambda d: d[0])
    return [
        Detected(
            start,
            end,
            entity,
            known or any(start <= o[0] and o[1] <= end for o in own),
        )
        for start, end, entity, known in kept
    ]


def replace(text: str, found: Iterable[Detected], token: Any) -> str:
    """`text` with each detected span replaced by `token(detected)`."""
    parts: list[str] = []
    position = 0
    for item in found:
        parts.append(text[position : item.start])
        parts.append(token(item))
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def redact(
    text: str, *, known: KnownIdentifiers | Iterable[str] = ()
) -> tuple[str, int]:
    """Return `text` with the subject's identifiers and pattern PII replaced by
    placeholders (`<EMAIL_ADDRESS>`, `<PERSON>`, ...), and the number of
    replacements (0 when nothing changed)."""
    found = [
        item
        for item in detect(text, known=known)
        # Redacting twice changes nothing: a placeholder is not PII.
        if text[item.start : item.end] != f"<{item.entity}>"
    ]
    if not found:
        return text, 0
    return replace(text, found, lambda item: f"<{item.entity}>"), len(found)


def redact_known(text: str, known: KnownIdentifiers) -> tuple[str, int]:
    """`text` with only the subject's known identifiers replaced (no pattern
    detection): for fields that are not free text, such as a name field."""
    found = [
        Detected(start, end, entity, True)
        for start, end, entity in known.spans(text)
        if text[start:end] != f"<{entity}>"
    ]
    if not found:
        return text, 0
    return replace(text, found, lambda item: f"<{item.entity}>"), len(found)
