"""Identifiers an erasure learns from the store, beyond those it was given.

A request names the subject by e-mail; her customer row also holds her
phone, her name and a CRM number, and her messages quote them in free text.
Whatever erases her rows reads those identity-like fields first (columns of
an sql map, fields of a conversation, properties of a SaaS record), so that
redaction replaces them in her texts and the verification, given the
receipt, searches for them after the erasure has blanked the fields.

Which fields are identity-like is told by their names (`field_kind`): a
column called `phone`, `mobile_number` or `last_name`, not `notes`. Values
are checked for their shape before they count (`learned_value`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from connectors.redaction import KnownIdentifiers
from privacydesk.identity import Identity

KINDS = ("emails", "phones", "customer_ids", "names")

_FIELD_KINDS = (
    ("emails", re.compile(r"(?:^|_)e_?mail(?:_?address)?$|^email_\w+$")),
    (
        "phones",
        re.compile(
            r"(?:^|_)(?:phone|mobile|cell|telephone|tel|fax|msisdn|whatsapp)"
            r"(?:_?(?:number|no|nr))?$|^(?:phone|mobile)_\w+$"
        ),
    ),
    (
        "names",
        re.compile(
            r"^(?:(?:first|last|given|family|middle|full|display|sur|fore|"
            r"contact|customer|billing|maiden|nick)_?)?name$|^surname$|^forename$"
        ),
    ),
    (
        "customer_ids",
        re.compile(
            r"^(?:crm|account|customer|member|loyalty|client|external)_?"
            r"(?:id|number|no|ref|reference)$|^user_?name$|^handle$"
        ),
    ),
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().\-/]+")
# Where a document describes its subject: at the top, or under one of these.
_SUBJECT_KEYS = frozenset(
    {"", "customer", "user", "contact", "requester", "client", "profile", "person"}
    | {"subject", "visitor", "end_user", "enduser", "caller", "member", "account"}
)
_ROLE_WORDS = frozenset(
    "info support admin contact sales hello mail noreply no reply team office "
    "billing service help account accounts orders shop customer customers".split()
)


def field_kind(name: str) -> str | None:
    """The kind of identifier a field or column of this name holds, if any
    ("emails", "phones", "customer_ids", "names")."""
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name.rsplit(".", 1)[-1]).lower()
    key = key.replace("-", "_").removesuffix("[]")
    for kind, pattern in _FIELD_KINDS:
        if pattern.search(key):
            return kind
    return None


def learned_value(kind: str, value: object) -> str | None:
    """`value` as an identifier of `kind`, or None when it has not the shape
    of one (an empty field, a placeholder, a phone column holding "n/a")."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text.startswith("<") or len(text) > 200:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if kind == "emails":
        return text if _EMAIL.fullmatch(text) else None
    if kind == "phones":
        return text if digits >= 7 and _PHONE.fullmatch(text) else None
    if kind == "names":
        return text if not digits and "@" not in text else None
    # A short number ("42") inside free text is more often something else.
    return text if len(text) >= 5 and not text.isdigit() or digits >= 6 else None


def names_from_email(address: str) -> tuple[str, ...]:
    """The given and family name an address like felix.becker.123@… spells
    (two or more words of letters, none a role like "info"), else none."""
    local = address.split("@", 1)[0].split("+", 1)[0].lower()
    words = [w for w in re.split(r"[._\-]+", local) if w]
    letters = [w for w in words if w.isalpha()]
    if len(letters) < 2 or any(len(w) < 2 or w in _ROLE_WORDS for w in letters):
        return ()
    return (" ".join(w.capitalize() for w in letters),)


def known_with(
    identity: Identity, learned: Mapping[str, Iterable[str]]
) -> KnownIdentifiers:
    """The subject's identifiers and what was learned of her, typed."""
    values = {kind: set(learned.get(kind, ())) for kind in KINDS}
    values["emails"].update(identity.emails)
    values["phones"].update(identity.phones)
    values["customer_ids"].update(identity.values("customer_id"))
    return KnownIdentifiers(
        **{
            kind: tuple(sorted(v.strip() for v in values[kind] if v.strip()))
            for kind in KINDS
        }
    )


def learned_from_json(
    node: object, learned: dict[str, set[str]], *, parent: str = ""
) -> None:
    """Add to `learned` the identity-like fields of a JSON document that
    describe its subject (`customer.phone`, `customer.first_name`, or such a
    field at the top level) and the name her e-mail addresses spell. A
    `product.name` or a message author's (an agent's) e-mail is not hers."""
    if isinstance(node, list):
        for item in node:
            learned_from_json(item, learned, parent=parent)
        return
    if not isinstance(node, dict):
        return
    about_subject = parent in _SUBJECT_KEYS
    for key, value in node.items():
        kind = field_kind(str(key)) if about_subject else None
        if kind is None:
            if isinstance(value, dict | list):
                learned_from_json(value, learned, parent=str(key).lower())
            continue
        for item in value if isinstance(value, list) else [value]:
            found = learned_value(kind, item)
            if found is None:
                continue
            learned.setdefault(kind, set()).add(found)
            if kind == "emails":
                learned.setdefault("names", set()).update(names_from_email(found))
