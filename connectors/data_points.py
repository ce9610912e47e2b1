"""Data points a requester gives to prove who they are, matched against what
a store holds for the subject (CCPA-REG §7062: a non-account holder is
verified by matching pieces of information they give to those the business
already keeps).

The kinds are deliberately ordinary facts a customer knows and a support
store keeps; none is sensitive (no SSN, ID or account number: §7060(c)(2)
says to avoid collecting those). Values are compared normalised (case,
spacing, a phone's digits), in memory, and only "matched or not" per kind
leaves the store: never a value.
"""

from __future__ import annotations

import re
import unicodedata

NAME = "name"
PHONE = "phone"
POSTAL_CODE = "postal_code"
ORDER_NUMBER = "order_number"
STREET_ADDRESS = "street_address"

# kind -> what the requester is asked for
KINDS: dict[str, str] = {
    NAME: "Your full name, as you gave it to us",
    PHONE: "A phone number you gave us",
    POSTAL_CODE: "Your ZIP or postal code",
    ORDER_NUMBER: "An order number (your most recent, if you have it)",
    STREET_ADDRESS: "Your street address (number and street)",
}
MAX_LENGTH = 200
_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def data_point_normalise(kind: str, value: object) -> str:
    """The form two values of `kind` are compared in ("" when `value` says
    nothing: empty, or not text or a number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    if kind == PHONE:
        digits = "".join(ch for ch in text if ch.isdigit())
        # The last ten digits: +1 415 555 0100 and (415) 555-0100 are one.
        return digits[-10:] if len(digits) >= 7 else ""
    if kind in (POSTAL_CODE, ORDER_NUMBER):
        text = _NOT_ALNUM.sub("", text)
        if kind == POSTAL_CODE and text.isdigit() and len(text) == 9:
            text = text[:5]  # ZIP+4 matches the five-digit ZIP
        return text.lstrip("0") if kind == ORDER_NUMBER else text
    text = _SPACES.sub(" ", re.sub(r"[.,]", " ", text)).strip()
    return text
