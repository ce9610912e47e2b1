"""Pass 1 of the access package: read each store's result, count it, check
it against its digest and its disclosure, before anything is stored.

Each result line is parsed once, here: its record is written at once into
the store's spool (dsr.packages.spool: data.json's text and CSV rows, in
memory while small), which dsr.packages.build copies into the ZIP. A package
that cannot be built as the law requires is refused here (`PackageRefused`,
with every reason), and its spools are dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage

from connectors.disclosure import (
    StoreDisclosure,
    category_name,
    category_names_of,
    store_disclosure_read,
    store_title,
)
from dsr.packages.flatten import flat_rows
from dsr.packages.page_rows import PAGE_ROWS
from dsr.packages.spool import StoreSpool
from privacydesk.errors import ValidationFailed

# The decoder's own scanner (json.loads without the checks around it).
_scan_once: Any = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009
_READ_BYTES = 128 * 1024  # a result file is read (and hashed) this much at a time


class PackageRefused(ValidationFailed):
    """The package cannot be built as the law requires; nothing was stored."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "the access package was not generated: " + "; ".join(self.problems),
            field="disclosure",
        )


@dataclass(frozen=True)
class StoreInput:
    """One store's part of the answer: its task's result and its disclosure."""

    connector: str
    # searched: its result is below; exempted: withheld or not searched with a
    # recorded legal basis; incomplete: it could not be searched.
    status: str = "searched"
    result_file: str = ""  # storage name of the JSON-lines result
    result_digest: str = ""
    data_categories: Sequence[str] = ()
    disclosure: Any = None
    withheld: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class PackageInput:
    reference: str
    kind: str  # access | portability
    regime: str
    regime_label: str
    received_at: datetime
    generated_at: datetime
    pseudonym: str
    controller_name: str
    supervisory_authority: str
    stores: Sequence[StoreInput]
    privacy_url: str = ""  # the portal, where the subject exercises their rights
    time_zone: str = "UTC"  # dates on the pages are the controller's local dates
    # Portability: the categories that hold data the subject provided; empty
    # means every category.
    portability_categories: frozenset[str] = frozenset()
    # index.html shows this many records of each table (the CSV has them all).
    page_rows: int = PAGE_ROWS


@dataclass
class Table:
    location: str
    csv_name: str = ""
    records: int = 0
    columns: dict[str, None] = field(default_factory=dict)  # an ordered set
    categories: dict[str, None] = field(default_factory=dict)
    category_labels: list[str] = field(default_factory=list)  # as a person reads them


@dataclass
class Store:
    source: StoreInput
    categories: dict[str, None] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    disclosure: StoreDisclosure | None = None
    # Its records as data.json text and CSV rows, written by the scan.
    spool: StoreSpool | None = None

    @property
    def records(self) -> int:
        return sum(t.records for t in self.tables.values())

    @property
    def title(self) -> str:
        """The store as the subject reads it (its disclosure's title, or its
        name in words)."""
        return store_title(self.source.connector, self.source.disclosure)

    def category_label(self, category: str) -> str:
        return category_name(category, category_names_of(self.source.disclosure))


@dataclass
class _Scan:
    store: Store
    problems: list[str]


def _lines(source: StoreInput, digest: Any) -> Iterator[str]:
    """The non-blank lines of one result file, read and hashed _READ_BYTES at
    a time (a UTF-8 byte order mark at its start is skipped, as JSON allows)."""
    if not source.result_file:
        return
    with default_storage.open(source.result_file, "rb") as handle:
        rest = b""
        first = True
        while chunk := handle.read(_READ_BYTES):
            digest.update(chunk)
            whole, _, rest = (rest + chunk).rpartition(b"\n")
            text = whole.decode("utf-8-sig" if first else "utf-8")
            first = first and not whole
            for line in text.split("\n"):
                if line and not line.isspace():
                    yield line
        text = rest.decode("utf-8-sig" if first else "utf-8")
        if text and not text.isspace():
            yield text


def _record(line: str, wanted: frozenset[str]) -> dict[str, Any] | None:
    """One result line as a package record; None: not a wanted category."""
    try:  # the decoder's scanner, without json.loads' checks around it
        record, end = _scan_once(line, 0)
        whole = end == len(line) or line[end:].isspace()
    except StopIteration:
        whole = False
    if not whole:
        record = json.loads(line)  # leading space, or not JSON: it judges
    if wanted and record.get("category", "") not in wanted:
        return None
    data = record.get("data")
    return {
        "location": str(record.get("location", "")),
        "key": str(record.get("key", "")),
        "category": str(record.get("category", "") or ""),
        "data": data if isinstance(data, dict) else {"value": data},
    }


def _scan(spec: PackageInput, source: StoreInput) -> _Scan:
    """Count, collect columns and categories, check the digest, and write
    each record into the store's spool."""
    spool = StoreSpool(page_rows=spec.page_rows)
    store = Store(source=source, spool=spool)
    problems: list[str] = []
    wanted = spec.portability_categories if spec.kind == "portability" else frozenset()
    digest = hashlib.sha256()
    tables = store.tables
    try:
        for line in _lines(source, digest):
            record = _record(line, wanted)
            if record is None:
                continue
            table = tables.get(record["location"])
            if table is None:
                table = tables[record["location"]] = Table(record["location"])
            table.records += 1
            category = record["category"]
            if category and category not in table.categories:
                store.categories.setdefault(category, None)
                table.categories[category] = None
            rows = flat_rows(record["data"])
            columns = table.columns
            for row in rows:
                if not row.keys() <= columns.keys():
                    for column in row:  # JSON keys are text already
                        columns.setdefault(column, None)
            spool.add(record, rows, columns)
    except FileNotFoundError:
        spool.close()
        return _Scan(
            Store(source=source), [f"{source.connector}: its result file is missing"]
        )
    except (ValueError, UnicodeDecodeError):
        problems.append(f"{source.connector}: its result file is not valid JSON lines")
    if (
        source.result_file
        and source.result_digest
        and digest.hexdigest() != source.result_digest
        and not problems
    ):
        problems.append(
            f"{source.connector}: its result file does not match the digest "
            "recorded when it was collected"
        )
    return _Scan(store, problems)


def _read_disclosures(spec: PackageInput, stores: list[Store]) -> list[str]:
    problems: list[str] = []
    if not spec.supervisory_authority.strip():
        problems.append(
            "the supervisory authority is empty (SUPERVISORY_AUTHORITY_GDPR, _UK or "
            "_CCPA): the letter must name where to complain"
        )
    for store in stores:
        if not (store.records or store.source.status == "exempted"):
            continue  # nothing of this subject there: nothing to explain
        categories = list(store.categories) or list(store.source.data_categories)
        store.disclosure, found = store_disclosure_read(
            connector=store.source.connector,
            disclosure=store.source.disclosure,
            categories=categories,
        )
        problems += found
    return problems


def _safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:80] or "records"


def _name_csv_files(stores: list[Store]) -> None:
    """Each table's CSV file name, and its categories as a person reads them."""
    for store in stores:
        taken: set[str] = set()
        folder = _safe_part(store.source.connector)
        for table in store.tables.values():
            table.category_labels = [store.category_label(c) for c in table.categories]
            base = _safe_part(table.location)
            name, number = base, 1
            while name.lower() in taken:
                number += 1
                name = f"{base}-{number}"
            taken.add(name.lower())
            table.csv_name = f"csv/{folder}/{name}.csv"


def package_scan(spec: PackageInput) -> list[Store]:
    """Every store's records counted and checked, and the package's CSV files
    named; raises PackageRefused with every reason not to build it."""
    stores: list[_Scan] = []
    try:
        for source in spec.stores:
            stores.append(_scan(spec, source))
        problems = [p for store in stores for p in store.problems]
        if spec.kind == "access":
            problems += _read_disclosures(spec, [s.store for s in stores])
        if problems:
            raise PackageRefused(problems)
    except BaseException:
        package_spools_close([s.store for s in stores])
        raise
    scanned = [s.store for s in stores]
    _name_csv_files(scanned)
    return scanned


def package_spools_close(stores: list[Store]) -> None:
    for store in stores:
        if store.spool is not None:
            store.spool.close()
