"""The value types of the data map and the record: plain, frozen, JSON-ready
through `dataclasses.asdict`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    """Something the record cannot say because it is not configured."""

    scope: str  # GapScope: store, activity, controller
    subject: str  # the store's or activity's name; "" for the controller
    kind: str  # GapKind
    message: str


@dataclass(frozen=True)
class StorePurpose:
    """A purpose a store's data is used for, and where that is recorded."""

    key: str  # the activity's key
    name: str
    legal_basis: str
    source: str  # "store disclosure" or "consent purpose link"


@dataclass(frozen=True)
class RetentionRule:
    """When data is erased: a purge policy, or a stated criterion."""

    store: str  # "" for an activity's own rule
    category: str  # "" = every category it is stated for
    text: str
    source: str  # "retention policy", "store disclosure", "activity"
    enforced: bool  # a scheduled purge applies it


@dataclass(frozen=True)
class RecipientFact:
    name: str
    role: str
    role_label: str
    country: str
    source: str  # "connector kind", "store disclosure", "officer"
    store: str = ""
    description: str = ""


@dataclass(frozen=True)
class TransferFact:
    """Data sent outside the EEA, and the safeguard it rests on ("" if none
    is recorded: a gap)."""

    country: str
    recipient: str
    safeguards: str
    source: str
    store: str = ""


@dataclass(frozen=True)
class StoreRow:
    """One connected store on the data map: what it holds and for what."""

    name: str
    public_id: str
    kind: str
    kind_label: str
    enabled: bool
    processor: bool  # a support-SaaS kind: the vendor processes for us
    categories: tuple[str, ...]
    purposes: tuple[StorePurpose, ...]
    recipients: tuple[RecipientFact, ...]
    transfers: tuple[TransferFact, ...]
    retention: tuple[RetentionRule, ...]
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class DataMap:
    """Which store holds which categories for which purposes."""

    stores: tuple[StoreRow, ...]
    categories: tuple[str, ...]  # every category any store holds, sorted

    @property
    def matrix(self) -> list[tuple[StoreRow, list[bool]]]:
        """Each store with, per category of `categories`, whether it holds it."""
        return [
            (store, [category in store.categories for category in self.categories])
            for store in self.stores
        ]

    @property
    def gaps(self) -> list[Gap]:
        return [gap for store in self.stores for gap in store.gaps]


@dataclass(frozen=True)
class ActivityEntry:
    """One processing activity (a purpose) with Art. 30(1)(b)-(f)."""

    key: str
    name: str
    description: str
    legal_basis: str
    sources: tuple[str, ...]
    stores: tuple[str, ...]
    data_categories: tuple[str, ...]
    subject_categories: tuple[str, ...]
    recipients: tuple[RecipientFact, ...]
    transfers: tuple[TransferFact, ...]
    retention: tuple[RetentionRule, ...]
    gaps: tuple[Gap, ...]
    activity_id: str = ""  # the officer's Activity row, if there is one


@dataclass(frozen=True)
class ControllerFacts:
    """Art. 30(1)(a): who is responsible, and whom to contact."""

    name: str
    address: str
    contact: str
    representative: str
    joint_controllers: str
    dpo_name: str
    dpo_contact: str
    dpo_not_designated_reason: str


@dataclass(frozen=True)
class Record:
    """The records of processing as configured now."""

    version: int
    changed_at: str | None
    controller: ControllerFacts
    security_measures: str
    activities: tuple[ActivityEntry, ...]
    data_map: DataMap
    gaps: tuple[Gap, ...]  # every gap: controller, activities, stores
