"""What the subject is told about each store: the GDPR Art. 15(1)–(2) items.

Staff record it per connector in `Connector.disclosure`:

    {
      "purposes": ["Answering support questions",
                   {"purpose": "Improving answers", "legal_basis": "Art. 6(1)(f)"}],
      "recipients": ["Helpdesk Cloud Ltd (hosting, our processor)",
                     {"name": "Acme Payments", "role": "processor", "country": "NL"},
                     {"category": "couriers", "reason": "impossible",
                      "explanation": "chosen per parcel by the shop"}],
      "retention": "Three years after your last ticket",
      "source": "You, when you wrote to support",
      "automated_decision_making": {"not_applicable": "no solely automated
                                     decisions"},
      "transfers": [{"country": "United States", "recipient": "Helpdesk Cloud Ltd",
                     "safeguards": "EU Standard Contractual Clauses (2021/914)"}],
      "title": "Support helpdesk",
      "category_names": {"support_message": "Messages you sent to support"}
    }

Every item is mandatory (REQUIREMENTS B17): a value, or
`{"not_applicable": "<reason>"}`. A recipient is named; a category alone needs
a recorded reason, "impossible" or "manifestly_unfounded_or_excessive" (B18,
CJEU C-154/21). Automated decision-making under Art. 22(1)/(4) is described
by its logic, significance and envisaged consequences (B19); a list describes
several activities.

A recipient also says how it is told of a rectification, erasure or
restriction (GDPR Art. 19, CCPA-REG §7022(b); REQUIREMENTS B29), all
optional:

    {"name": "Acme Payments", "role": "processor",
     "notify": "email", "contact": "privacy@acme.example"}

- `notify`: "connector" (the store's own erasure or correction task is the
  notification: a processor reached through its connector, such as a
  support SaaS), "email" (a message to `contact`, an e-mail address) or
  "manual" (an officer records the step on the request's page).
- `impossible_reason`: telling this recipient is impossible or would take
  disproportionate effort, and why (the written justification Art. 19
  asks for); its notification is recorded "impossible" with this text.

Left out, `notify` defaults to "connector" for a processor (`role` naming
one) of a store whose kind reaches the processor itself
(`ConnectorKind.reaches_processor`: the support SaaS and OpenDSR kinds), and
to "manual" for every other recipient (`recipient_notify_method`).

Two optional keys name things as the subject should read them, in the
letter, the package's index.html and the evidence pack: `title`, the store
(a text of at most 120 characters; "Support helpdesk" for the connector
`helpdesk`), and `category_names`, an object from a data category to its
name (at most 200 entries; each name a text of at most 200 characters:
"Messages you sent to support" for `support_message`). A category the store
does not hold is ignored. Without them, or left blank, a slug is humanised
(`chat-transcripts` -> "Chat transcripts", `ai_conversation` -> "AI
conversation"), never shown alone.

One rule, read twice: `store_disclosure_read` when an access letter is
written, and `store_disclosure_problems` when a connector is written, so a
store the letter could not explain is refused up front, with the path of
what is missing, instead of holding every access request that reaches it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from connectors.registry import kind_available
from privacydesk.errors import ValidationFailed

T = TypeVar("T")

CATEGORY_ONLY_REASONS = {
    "impossible": "identifying the recipients is impossible",
    "manifestly_unfounded_or_excessive": (
        "naming them would be manifestly unfounded or excessive"
    ),
}
# How a recipient is told of a rectification, erasure or restriction (Art. 19).
NOTIFY_CONNECTOR = "connector"
NOTIFY_EMAIL = "email"
NOTIFY_MANUAL = "manual"
NOTIFY_METHODS = (NOTIFY_CONNECTOR, NOTIFY_EMAIL, NOTIFY_MANUAL)
MANDATORY_ITEMS = (
    "purposes",
    "recipients",
    "retention",
    "source",
    "automated_decision_making",
    "transfers",
)
OPTIONAL_ITEMS = ("title", "category_names")
MAX_TITLE_CHARS = 120
MAX_CATEGORY_NAMES = 200
MAX_CATEGORY_NAME_CHARS = 200
# Words a humanised slug writes in capitals ("ai_conversation" -> "AI conversation").
_ACRONYMS = frozenset(
    "ai api crm csv faq gdpr id ip llm pdf pii sms url eu eea".split()
)
_MARK_NA = 'fill it in or mark it {"not_applicable": "<reason>"}'
MAX_DISCLOSURE_CHARS = 20_000


@dataclass(frozen=True)
class Item(Generic[T]):
    """One mandatory item: its values, or why it does not apply."""

    values: tuple[T, ...] = ()
    not_applicable: str = ""


@dataclass(frozen=True)
class Purpose:
    text: str
    legal_basis: str = ""


@dataclass(frozen=True)
class Recipient:
    name: str = ""
    category: str = ""
    role: str = ""
    country: str = ""
    reason: str = ""  # why only a category is given
    explanation: str = ""
    # Art. 19: how it is told (NOTIFY_METHODS; "" = the default), where,
    # or why telling it is impossible or disproportionate.
    notify: str = ""
    contact: str = ""
    impossible_reason: str = ""

    @property
    def reason_text(self) -> str:
        return CATEGORY_ONLY_REASONS.get(self.reason, "")

    @property
    def label(self) -> str:
        """Who it is, in words: its name, or its category."""
        return self.name or f"Recipients of the category {self.category!r}"

    @property
    def is_processor(self) -> bool:
        return "processor" in self.role.lower()


@dataclass(frozen=True)
class Decision:
    """A solely automated decision (Art. 22(1), (4)) and what it means."""

    logic: str
    significance: str
    consequences: str
    activity: str = ""


@dataclass(frozen=True)
class Transfer:
    """A transfer to a third country or international organisation (15(2))."""

    country: str
    safeguards: str
    recipient: str = ""


@dataclass(frozen=True)
class StoreDisclosure:
    """The Art. 15 information of one store, checked and ready to print."""

    connector: str
    categories: tuple[str, ...]
    purposes: Item[Purpose]
    recipients: Item[Recipient]
    retention: Item[str]
    source: Item[str]
    automated_decision_making: Item[Decision]
    transfers: Item[Transfer]
    title: str = ""  # the store as the subject reads it (configured or humanised)
    category_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def category_labels(self) -> tuple[str, ...]:
        """The categories held, each as the subject should read it."""
        return tuple(category_name(c, self.category_names) for c in self.categories)


@dataclass(frozen=True)
class DisclosureProblem:
    """One thing the letter could not say; `path` names the connector's field
    (`disclosure.transfers`, `disclosure.recipients[0]`, `data_categories`)."""

    path: str
    message: str

    def for_store(self, connector: str) -> str:
        return f"{connector}: {self.path} {self.message}"


@dataclass
class _Reader:
    problems: list[DisclosureProblem] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(DisclosureProblem(f"disclosure.{path}", message))

    def not_applicable(self, path: str, value: Any) -> str | None:
        """The reason if `value` is a not-applicable mark; None if it is not one."""
        if not (isinstance(value, Mapping) and "not_applicable" in value):
            return None
        reason = _text(value.get("not_applicable"))
        if not reason:
            self.problem(path, "is marked not applicable without a reason")
        return reason

    def text_item(self, path: str, value: Any) -> Item[str]:
        reason = self.not_applicable(path, value)
        if reason is not None:
            return Item(not_applicable=reason)
        text = _text(value)
        if not text:
            self.problem(path, f"is empty: {_MARK_NA}")
            return Item()
        return Item(values=(text,))

    def list_item(self, path: str, value: Any, read_one: Any) -> Item[Any]:
        reason = self.not_applicable(path, value)
        if reason is not None:
            return Item(not_applicable=reason)
        entries = value if isinstance(value, list) else [value] if value else []
        if not entries:
            self.problem(path, f"is empty: {_MARK_NA}")
            return Item()
        values = []
        for index, entry in enumerate(entries):
            parsed = read_one(f"{path}[{index}]", entry)
            if parsed is not None:
                values.append(parsed)
        return Item(values=tuple(values))

    def purpose(self, path: str, entry: Any) -> Purpose | None:
        if isinstance(entry, Mapping):
            text = _text(entry.get("purpose"))
            basis = _text(entry.get("legal_basis"))
        else:
            text, basis = _text(entry), ""
        if not text:
            self.problem(path, "has no purpose text")
            return None
        return Purpose(text=text, legal_basis=basis)

    def recipient(self, path: str, entry: Any) -> Recipient | None:
        if not isinstance(entry, Mapping):
            name = _text(entry)
            if not name:
                self.problem(path, "is empty")
                return None
            return Recipient(name=name)
        recipient = Recipient(
            name=_text(entry.get("name")),
            category=_text(entry.get("category")),
            role=_text(entry.get("role")),
            country=_text(entry.get("country")),
            reason=_text(entry.get("reason")),
            explanation=_text(entry.get("explanation")),
            notify=_text(entry.get("notify")),
            contact=_text(entry.get("contact")),
            impossible_reason=_text(entry.get("impossible_reason")),
        )
        if not self.notification_ok(path, entry, recipient):
            return None
        if recipient.name:
            return recipient
        if not recipient.category:
            self.problem(path, "names neither a recipient nor a category")
            return None
        if recipient.reason not in CATEGORY_ONLY_REASONS:
            self.problem(
                path,
                f"gives only the category {recipient.category!r}: name the "
                "recipient, or record why not with reason "
                + " or ".join(repr(r) for r in CATEGORY_ONLY_REASONS),
            )
            return None
        return recipient

    def notification_ok(
        self, path: str, entry: Mapping[str, Any], recipient: Recipient
    ) -> bool:
        """Whether the Art. 19 fields say one clear thing (else a problem)."""
        problems = len(self.problems)
        if "notify" in entry and recipient.notify not in NOTIFY_METHODS:
            self.problem(
                f"{path}.notify",
                "must be " + ", ".join(repr(m) for m in NOTIFY_METHODS),
            )
        if recipient.notify == NOTIFY_EMAIL:
            try:
                validate_email(recipient.contact)
            except ValidationError:
                self.problem(
                    f"{path}.contact",
                    "must be the e-mail address the notification goes to",
                )
        elif "contact" in entry and recipient.notify != NOTIFY_EMAIL:
            self.problem(
                f"{path}.contact", 'is used only with "notify": "email"; set both'
            )
        if "impossible_reason" in entry and not recipient.impossible_reason:
            self.problem(
                f"{path}.impossible_reason",
                "is empty: write why telling this recipient is impossible or "
                "disproportionate, or leave the key out",
            )
        return len(self.problems) == problems

    def decision(self, path: str, entry: Any) -> Decision | None:
        if not isinstance(entry, Mapping):
            self.problem(
                path,
                "must say the logic, significance and consequences "
                '({"logic": ..., "significance": ..., "consequences": ...}), '
                'or be {"not_applicable": "<reason>"}',
            )
            return None
        parts = {
            key: _text(entry.get(key))
            for key in ("logic", "significance", "consequences")
        }
        missing = [k for k, v in parts.items() if not v]
        if missing:
            self.problem(path, f"lacks {', '.join(missing)}")
            return None
        return Decision(activity=_text(entry.get("activity")), **parts)

    def transfer(self, path: str, entry: Any) -> Transfer | None:
        if not isinstance(entry, Mapping):
            self.problem(path, 'must be {"country": ..., "safeguards": ...}')
            return None
        country, safeguards = (
            _text(entry.get("country")),
            _text(entry.get("safeguards")),
        )
        if not country or not safeguards:
            self.problem(path, "needs both the country and the safeguards")
            return None
        return Transfer(
            country=country,
            safeguards=safeguards,
            recipient=_text(entry.get("recipient")),
        )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def humanised(slug: str) -> str:
    """A slug as words: `chat-transcripts` -> "Chat transcripts",
    `ai_conversation` -> "AI conversation", `customer.email` -> "Customer email"."""
    words = [w for w in re.split(r"[\s_.\-/]+", slug.strip()) if w]
    if not words:
        return slug
    out = []
    for index, word in enumerate(words):
        lower = word.lower()
        if lower in _ACRONYMS:
            out.append(lower.upper())
        elif word != lower and word != word.capitalize():
            out.append(word)  # mixed case the author chose (iPhone, McDonald)
        else:
            out.append(lower.capitalize() if index == 0 else lower)
    return " ".join(out)


def category_names_of(disclosure: Any) -> dict[str, str]:
    """The configured category names of a stored disclosure (texts only)."""
    names = (
        disclosure.get("category_names") if isinstance(disclosure, Mapping) else None
    )
    if not isinstance(names, Mapping):
        return {}
    return {
        str(key): value.strip()
        for key, value in names.items()
        if isinstance(value, str) and value.strip()
    }


def category_name(category: str, names: Mapping[str, str] | None = None) -> str:
    """A data category as the subject reads it: its configured name, or the
    slug humanised."""
    return (names or {}).get(category) or humanised(category)


def store_title(connector: str, disclosure: Any) -> str:
    """A store as the subject reads it: the disclosure's `title`, or the
    connector's name humanised."""
    title = disclosure.get("title") if isinstance(disclosure, Mapping) else None
    return _text(title) or humanised(connector)


def store_disclosure_read(
    *, connector: str, disclosure: Any, categories: Iterable[str]
) -> tuple[StoreDisclosure, list[str]]:
    """Read one store's disclosure; the problems say what blocks the letter."""
    store, problems = _read(connector, disclosure, categories)
    return store, [problem.for_store(connector) for problem in problems]


def store_disclosure_problems(
    *, disclosure: Any, categories: Iterable[str]
) -> list[DisclosureProblem]:
    """What an access letter could not say about a store configured so: the
    rule of `store_disclosure_read`, for checking a connector when it is
    written. Empty when the letter has all it needs."""
    return _read("", disclosure, categories)[1]


def store_disclosure_clean(disclosure: Any) -> dict[str, Any]:
    """The shape of a disclosure as written (known keys, texts and objects);
    `store_disclosure_require_complete` then checks it says all a letter needs.
    Raises ValidationFailed naming the path."""
    if disclosure is None:
        return {}
    if not isinstance(disclosure, dict):
        raise ValidationFailed("must be an object", field="disclosure")
    known = MANDATORY_ITEMS + OPTIONAL_ITEMS
    unknown = sorted(set(disclosure) - set(known))
    if unknown:
        raise ValidationFailed(
            f"unknown key {unknown[0]!r}; known: {', '.join(known)}",
            field=f"disclosure.{unknown[0]}",
        )
    _clean_names(disclosure)
    for key, value in disclosure.items():
        path = f"disclosure.{key}"
        if key in OPTIONAL_ITEMS:
            continue
        if isinstance(value, dict):
            continue  # {"not_applicable": ...} or one structured entry
        if key in ("retention", "source"):
            if not isinstance(value, str):
                raise ValidationFailed(
                    'must be a text or {"not_applicable": "<reason>"}', field=path
                )
            continue
        entries = value if isinstance(value, list) else [value]
        for index, entry in enumerate(entries):
            if not isinstance(entry, str | dict):
                raise ValidationFailed(
                    "must be a text or an object", field=f"{path}[{index}]"
                )
    if len(json.dumps(disclosure)) > MAX_DISCLOSURE_CHARS:
        raise ValidationFailed(
            f"is too long ({MAX_DISCLOSURE_CHARS:,} characters at most)",
            field="disclosure",
        )
    return disclosure


def _clean_names(disclosure: dict[str, Any]) -> None:
    """Check the optional `title` and `category_names` (types and lengths)."""
    title = disclosure.get("title")
    if title is not None:
        if not isinstance(title, str):
            raise ValidationFailed("must be a text", field="disclosure.title")
        if len(title) > MAX_TITLE_CHARS:
            raise ValidationFailed(
                f"is too long ({MAX_TITLE_CHARS} characters at most)",
                field="disclosure.title",
            )
    names = disclosure.get("category_names")
    if names is None:
        return
    path = "disclosure.category_names"
    if not isinstance(names, dict):
        raise ValidationFailed(
            'must be an object, e.g. {"support_message": "Messages you sent"}',
            field=path,
        )
    if len(names) > MAX_CATEGORY_NAMES:
        raise ValidationFailed(
            f"has too many entries ({MAX_CATEGORY_NAMES} at most)", field=path
        )
    for category, name in names.items():
        if not isinstance(name, str):
            raise ValidationFailed("must be a text", field=f"{path}.{category}")
        if len(name) > MAX_CATEGORY_NAME_CHARS:
            raise ValidationFailed(
                f"is too long ({MAX_CATEGORY_NAME_CHARS} characters at most)",
                field=f"{path}.{category}",
            )


def store_disclosure_require_complete(
    *, disclosure: Any, categories: Iterable[str]
) -> None:
    """Refuse a store an access letter could not explain (GDPR 15(1)-(2)) by
    the letter's own rule, naming the first missing field: stored so, it would
    hold every access request that finds data in it."""
    problems = store_disclosure_problems(disclosure=disclosure, categories=categories)
    if not problems:
        return
    first, others = problems[0], problems[1:]
    message = first.message
    if others:
        message += "; also " + ", ".join(problem.path for problem in others)
    raise ValidationFailed(message, field=first.path)


def _read(
    connector: str, disclosure: Any, categories: Iterable[str]
) -> tuple[StoreDisclosure, list[DisclosureProblem]]:
    reader = _Reader()
    data: Mapping[str, Any] = disclosure if isinstance(disclosure, Mapping) else {}
    held = tuple(sorted({c.strip() for c in categories if c and c.strip()}))
    if not held:
        reader.problems.append(
            DisclosureProblem(
                "data_categories",
                "is empty: no data categories are recorded for this store "
                "(set the connector's data categories)",
            )
        )
    store = StoreDisclosure(
        connector=connector,
        categories=held,
        purposes=reader.list_item("purposes", data.get("purposes"), reader.purpose),
        recipients=reader.list_item(
            "recipients", data.get("recipients"), reader.recipient
        ),
        retention=reader.text_item("retention", data.get("retention")),
        source=reader.text_item("source", data.get("source")),
        automated_decision_making=reader.list_item(
            "automated_decision_making",
            data.get("automated_decision_making"),
            reader.decision,
        ),
        transfers=reader.list_item("transfers", data.get("transfers"), reader.transfer),
        title=store_title(connector, data),
        category_names=category_names_of(data),
    )
    return store, reader.problems


def recipient_notify_method(recipient: Recipient, *, kind: str) -> str:
    """How `recipient` of a store of `kind` is told of a rectification,
    erasure or restriction: as written, else "connector" for a processor
    the store's kind reaches itself, else "manual"."""
    if recipient.notify:
        return recipient.notify
    cls = kind_available(kind)
    if recipient.is_processor and cls is not None and cls.reaches_processor:
        return NOTIFY_CONNECTOR
    return NOTIFY_MANUAL


def store_recipients(*, disclosure: Any) -> tuple[Recipient, ...]:
    """The recipients a store's disclosure lists (none if it marks them not
    applicable); an entry the rule refuses is left out."""
    store, _ = _read("", disclosure, ())
    return store.recipients.values
