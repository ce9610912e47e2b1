"""JSON-lines transcript files in a folder: one conversation per line.

Config::

    {"folder": "/srv/transcripts", "pattern": "*.jsonl",
     "identity": {"email": "customer.email", "phone": "customer.phone",
                  "customer_id": {"path": "customer.id", "system": "crm"}},
     "text_fields": ["messages[].text", "summary"],
     "erase": "redact_pii"}

Access returns the conversations that belong to the subject (see
`matching`), keyed by their `id` field or `line:<n>`. Erasure deletes them
(`delete`) or keeps them with the identity fields replaced by placeholders and
the text fields redacted (`redact_pii`); either way the subject's identifiers
quoted in other conversations become placeholders too. Verification counts
every line that still belongs to or mentions the subject. Files are only ever
read line by line and rewritten atomically (see `storage`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import (
    AccessRecord,
    ConnectorError,
    ConnectorKind,
    ErasureReceipt,
    HealthReport,
    Identity,
    Outcome,
)
from connectors.choices import Action
from connectors.kinds.files.config import (
    FieldPath,
    IdentityField,
    clean_config,
    config_schema,
    identity_fields,
)
from connectors.kinds.files.matching import (
    PLACEHOLDERS,
    SubjectMatcher,
    any_string,
    scrub_strings,
)
from connectors.kinds.files.storage import (
    LOCK_NAME,
    folder_lock,
    matching_files,
    rewrite,
)
from connectors.learned_identifiers import known_with, learned_from_json
from connectors.redaction import KnownIdentifiers, redact_known
from connectors.redaction import redact as redact_pii

__all__ = ["LOCK_NAME", "FilesConnector"]

Redact = Callable[..., tuple[str, int]]
# In a receipt's `known`: the ids of the subject's own conversations.
CONVERSATIONS = "conversations"


class FilesConnector(ConnectorKind):
    """Conversations stored as JSON lines in the files of one folder."""

    kind: ClassVar[str] = "files"
    label: ClassVar[str] = "Transcript files (JSON lines)"
    actions = frozenset({Action.ACCESS, Action.ERASE, Action.VERIFY_ERASURE})
    verifies_in_process: ClassVar[bool] = True
    lists_conversations: ClassVar[bool] = True
    # How long an erasure waits for another one to release the folder.
    lock_timeout: ClassVar[float] = 30.0
    # How often a file that changes under a rewrite is read again.
    rewrite_attempts: ClassVar[int] = 3

    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        if config.get("erase") == "delete":
            return "conversations deleted"
        return "identifiers replaced, transcript text PII-redacted"

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return config_schema()

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        return clean_config(super().validate_config(config))

    # -- the parsed config, built lazily: planning makes instances just to
    # read `actions`
    @cached_property
    def folder(self) -> Path:
        return Path(self.config["folder"])

    @cached_property
    def pattern(self) -> str:
        return str(self.config.get("pattern", "*.jsonl"))

    @cached_property
    def identity_fields(self) -> list[IdentityField]:
        return identity_fields(self.config.get("identity", {}))

    @cached_property
    def text_fields(self) -> list[FieldPath]:
        return [
            FieldPath.parse(path, field="config.text_fields")
            for path in self.config.get("text_fields", [])
        ]

    @cached_property
    def id_path(self) -> FieldPath:
        return FieldPath.parse(
            self.config.get("id_field", "id"), field="config.id_field"
        )

    # -- health --------------------------------------------------------------
    def health(self) -> HealthReport:
        self._check_folder(write=True)
        count = sum(1 for _ in matching_files(self.folder, self.pattern))
        return HealthReport(f"ok: {count} file(s) match {self.pattern}")

    def _check_folder(self, *, write: bool) -> None:
        if not self.folder.is_dir():
            raise ConnectorError(
                f"folder {self.folder} does not exist or is not a folder",
                permanent=True,
            )
        if not os.access(self.folder, os.R_OK | os.X_OK | (os.W_OK if write else 0)):
            need = "read and write" if write else "read"
            raise ConnectorError(
                f"this service may not {need} folder {self.folder}", permanent=True
            )

    def _lines(self) -> Iterator[tuple[Path, int, bytes]]:
        """(file, line number, raw line) of every matching file, streamed."""
        for path in matching_files(self.folder, self.pattern):
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                continue  # removed since the listing
            with handle:
                for lineno, raw in enumerate(handle, 1):
                    yield path, lineno, raw

    # -- access ----------------------------------------------------------------
    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        self._check_folder(write=False)
        matcher = SubjectMatcher(identity, self.identity_fields)
        category = self.config.get("category", "ai_conversation")
        for path, lineno, raw in self._lines():
            if not matcher.might_concern(raw):
                continue
            parsed, document = _parse(raw)
            if parsed and matcher.belongs(document):
                yield AccessRecord(
                    location=path.name,
                    key=self._key(document, lineno),
                    data=document,
                    category=category,
                )

    def _key_in(self, document: Any, keys: set[str]) -> bool:
        return any(
            isinstance(value, str | int) and str(value) in keys
            for value in self.id_path.values(document)
        )

    def conversation_ids(self, identity: Identity) -> list[str]:
        """The ids (`id_field`) of the subject's conversations; a line with
        none has nothing another store could name it by."""
        return [
            record.key
            for record in self.access(identity)
            if not record.key.startswith("line:")
        ]

    def _key(self, document: Any, lineno: int) -> str:
        for value in self.id_path.values(document):
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
        return f"line:{lineno}"

    # -- erase -------------------------------------------------------------------
    def erase(self, identity: Identity) -> ErasureReceipt:
        self._check_folder(write=True)
        if identity.is_empty():
            raise ConnectorError("no identifiers to erase by", permanent=True)
        matcher = SubjectMatcher(identity, self.identity_fields)
        mode = self.config.get("erase", "delete")
        redact = redact_pii if mode == "redact_pii" else None
        # What her own conversations say of her beyond the identifiers asked
        # for (her phone, the name her address spells), and their ids: the
        # receipt carries both, so the check looks for her name in her
        # conversations (and only there: another Felix keeps his).
        learned: dict[str, set[str]] = {}
        outcome = ErasureReceipt(kind=self.kind)
        with folder_lock(self.folder, timeout=self.lock_timeout):
            for path in matching_files(self.folder, self.pattern):
                found, changed = rewrite(
                    path,
                    lambda raw: self._erase_line(raw, matcher, redact, learned),
                    attempts=self.rewrite_attempts,
                )
                if found or changed:
                    outcome.add(path.name, found=found, changed=changed)
        outcome.known = {
            kind: tuple(sorted(values)) for kind, values in learned.items() if values
        }
        outcome.note = f"{mode}: {outcome.changed} line(s) rewritten"
        return outcome

    def _erase_line(
        self,
        raw: bytes,
        matcher: SubjectMatcher,
        redact: Redact | None,
        learned: dict[str, set[str]],
    ) -> tuple[bytes | None, bool]:
        """The line's replacement (None drops it) and whether it concerned us."""
        if not matcher.might_concern(raw):
            return raw, False
        parsed, document = _parse(raw)
        if not parsed:
            # Not JSON: only the identifiers in its text can be replaced.
            text = raw.decode("utf-8", errors="surrogateescape")
            new, count = matcher.scrub(text)
            if not count:
                return raw, False
            return new.encode("utf-8", errors="surrogateescape"), True
        if matcher.belongs(document):
            if redact is None:
                return None, True
            mine: dict[str, set[str]] = {}
            learned_from_json(document, mine)
            for kind, values in mine.items():
                learned.setdefault(kind, set()).update(values)
            for key in self.id_path.values(document):
                if isinstance(key, str | int) and not isinstance(key, bool):
                    learned.setdefault(CONVERSATIONS, set()).add(str(key))
            self._redact(document, matcher, redact, known_with(matcher.identity, mine))
            return _dump(document, raw), True
        if scrub_strings(document, matcher.scrub):
            return _dump(document, raw), True
        return raw, False

    def _redact(
        self,
        document: Any,
        matcher: SubjectMatcher,
        redact: Redact,
        known: KnownIdentifiers,
    ) -> None:
        for spec in self.identity_fields:
            for container, key in list(spec.path.locate(document)):
                if container[key] not in (None, ""):
                    container[key] = PLACEHOLDERS[spec.kind]
        for path in self.text_fields:
            for container, key in list(path.locate(document)):
                if isinstance(container[key], str) and container[key]:
                    container[key], _ = redact(container[key], known=known)
        # Whatever the redactor left of the known identifiers, anywhere (a
        # name field, a phone in a field that is not text).
        scrub_strings(document, matcher.scrub)
        scrub_strings(document, lambda text: redact_known(text, known))

    # -- verify --------------------------------------------------------------------
    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        self._check_folder(write=False)
        matcher = SubjectMatcher(identity, self.identity_fields)
        # Her conversations (by id, from the receipt) are searched for all
        # the erasure knew of her, her name included; the others for her
        # identifiers only.
        known = receipt.known if receipt is not None else {}
        hers = set(known.get(CONVERSATIONS, ()))
        tokens = tuple(json.dumps(key).encode() for key in hers)
        everything = known_with(identity, known)
        outcome = Outcome()
        for path, _, raw in self._lines():
            mine = bool(tokens) and any(token in raw for token in tokens)
            if not mine and not matcher.might_concern(raw):
                continue
            parsed, document = _parse(raw)
            if parsed and mine and self._key_in(document, hers):
                left = any_string(document, everything.found_in)
            elif parsed:
                left = matcher.belongs(document) or any_string(
                    document, matcher.mentions
                )
            else:
                left = matcher.mentions(raw.decode("utf-8", errors="replace"))
            if left:
                outcome.add(path.name, found=1)
        if outcome.found:
            outcome.note = (
                f"{outcome.found} line(s) in {len(outcome.per_location)} file(s) "
                "still hold the subject's identifiers"
            )
        return outcome


def _parse(raw: bytes) -> tuple[bool, Any]:
    if not raw.strip():
        return False, None
    try:
        return True, json.loads(raw)
    except ValueError:  # not JSON, or not UTF-8
        return False, None


def _dump(document: Any, original: bytes) -> bytes:
    """The rewritten line, ending as the original did."""
    if original.endswith(b"\r\n"):
        ending = b"\r\n"
    else:
        ending = b"\n" if original.endswith(b"\n") else b""
    return json.dumps(document, ensure_ascii=False).encode() + ending
