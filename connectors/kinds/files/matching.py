"""Whether a conversation belongs to the subject, or only mentions them.

It *belongs* when one of its identity fields holds one of the subject's
identifiers (e-mails compared without case, phones by their digits, customer
ids within their system). It *mentions* the subject when any of its strings
contains one: an address quoted in someone else's chat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from connectors.base import Identity
from connectors.kinds.files.config import IdentityField

PLACEHOLDERS = {
    "email": "<EMAIL_ADDRESS>",
    "phone": "<PHONE_NUMBER>",
    "customer_id": "<CUSTOMER_ID>",
}
# Customer ids shorter than this are matched in identity fields only: "42"
# inside free text is more likely an order number than this customer.
MIN_MENTION_LENGTH = 4
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d ()./-]{5,24}\d")
_NOT_DIGITS = bytes(b for b in range(256) if not 48 <= b <= 57)


def phone_digits(value: str) -> str:
    """A phone number's digits; a "(0)" trunk prefix is written, not dialled."""
    return "".join(ch for ch in value.replace("(0)", "") if ch.isdigit())


class SubjectMatcher:
    """The subject's identifiers, compiled once per action."""

    def __init__(self, identity: Identity, fields: list[IdentityField]) -> None:
        self.identity = identity
        self.fields = fields
        self.emails = {e.strip().lower() for e in identity.emails if e.strip()}
        self.phones = {
            digits
            for digits in (phone_digits(p) for p in identity.phones)
            if len(digits) >= 6
        }
        self.known = tuple(v for v in identity.all_values() if v.strip())
        self._placeholder: dict[str, str] = {}
        alternatives: list[str] = []
        for email in sorted(self.emails, key=len, reverse=True):
            alternatives.append(
                rf"(?<![A-Za-z0-9._%+-]){re.escape(email)}"
                r"(?![A-Za-z0-9_-]|\.[A-Za-z0-9])"
            )
            self._placeholder[email] = PLACEHOLDERS["email"]
        for value in sorted(identity.values("customer_id"), key=len, reverse=True):
            value = value.strip()
            if len(value) >= MIN_MENTION_LENGTH:
                # "C-1001-B" is another customer: a hyphen continues an id.
                alternatives.append(rf"(?<![\w-]){re.escape(value)}(?![\w-])")
                self._placeholder[value.lower()] = PLACEHOLDERS["customer_id"]
        self._pattern = (
            re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        )
        # For the cheap first look at a raw line: every identifier as it may
        # be written in JSON, and the last digits of every phone number.
        tokens: set[str] = set()
        for value in (*self.emails, *identity.values("customer_id")):
            if value.strip():
                tokens.add(value.strip().lower())
                tokens.add(json.dumps(value.strip())[1:-1].lower())
        self._tokens = tuple(tokens)
        self._phone_tails = tuple(digits[-7:].encode() for digits in self.phones)

    def might_concern(self, raw: bytes) -> bool:
        """False when a raw line surely neither belongs to nor mentions the
        subject: most lines of a big folder are never parsed."""
        if self._tokens:
            text = raw.decode("utf-8", errors="replace").lower()
            if any(token in text for token in self._tokens):
                return True
        if self._phone_tails:
            digits = raw.translate(None, _NOT_DIGITS)
            return any(tail in digits for tail in self._phone_tails)
        return False

    def belongs(self, document: Any) -> bool:
        for spec in self.fields:
            for value in spec.path.values(document):
                if isinstance(value, bool) or not isinstance(value, (str, int)):
                    continue
                if self._is_subject(spec, str(value)):
                    return True
        return False

    def _is_subject(self, spec: IdentityField, value: str) -> bool:
        if spec.kind == "email":
            return value.strip().lower() in self.emails
        if spec.kind == "phone":
            return phone_digits(value) in self.phones
        return value.strip() in self.identity.values("customer_id", spec.system)

    def scrub(self, text: str) -> tuple[str, int]:
        """Replace the subject's identifiers in a string with placeholders."""
        count = 0
        if self._pattern is not None:
            text, count = self._pattern.subn(
                lambda m: self._placeholder.get(m.group(0).lower(), "<REDACTED>"),
                text,
            )
        if self.phones:
            phones = 0

            def replace(match: re.Match[str]) -> str:
                nonlocal phones
                if phone_digits(match.group(0)) in self.phones:
                    phones += 1
                    return PLACEHOLDERS["phone"]
                return match.group(0)

            text = _PHONE_IN_TEXT.sub(replace, text)
            count += phones
        return text, count

    def mentions(self, text: str) -> bool:
        if self._pattern is not None and self._pattern.search(text):
            return True
        return bool(self.phones) and any(
            phone_digits(m.group(0)) in self.phones
            for m in _PHONE_IN_TEXT.finditer(text)
        )


def scrub_strings(node: Any, scrub: Callable[[str], tuple[str, int]]) -> int:
    """Scrub every string inside a JSON value in place; returns replacements."""
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return 0
    total = 0
    for key, value in items:
        if isinstance(value, str):
            new, count = scrub(value)
            if count:
                node[key] = new
                total += count
        elif isinstance(value, (dict, list)):
            total += scrub_strings(value, scrub)
    return total


def any_string(node: Any, test: Callable[[str], bool]) -> bool:
    """Whether any string inside a JSON value passes `test`."""
    if isinstance(node, str):
        return test(node)
    if isinstance(node, dict):
        return any(any_string(v, test) for v in node.values())
    if isinstance(node, list):
        return any(any_string(v, test) for v in node)
    return False
