"""The exclusions export file: every exclusion in force, as CSV (one row
per key, to join a dataset against) or JSON Lines (one line per exclusion).
Generated as it is written, so a large list costs no memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from accounts.actors import Actor
from training.choices import KeyKind
from training.models import TrainingExclusion
from training.selectors import exclusion_keys, exclusions_active

CSV_COLUMNS = ("kind", "value", "exclusion", "reason", "excluded_at")
FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


def export_lines(*, actor: Actor, file_format: str) -> Iterator[str]:
    """The export file, line by line (`csv` or `jsonl`). Who may read it is
    checked now, not when the first line is read."""
    return _lines(exclusions_active(actor=actor), file_format)


def _lines(exclusions: Iterator[TrainingExclusion], file_format: str) -> Iterator[str]:
    if file_format == "csv":
        yield _csv_row(CSV_COLUMNS)
    for exclusion in exclusions:
        common = {
            "exclusion": str(exclusion.public_id),
            "reason": exclusion.reason,
            "excluded_at": exclusion.created_at.isoformat(),
        }
        indexes = exclusion_keys(exclusion, KeyKind.BLIND_INDEX)
        conversations = exclusion_keys(exclusion, KeyKind.CONVERSATION_ID)
        if file_format == "jsonl":
            line = {
                **common,
                "blind_indexes": indexes,
                "conversation_ids": conversations,
            }
            yield json.dumps(line, separators=(",", ":")) + "\n"
            continue
        for kind, values in (
            (KeyKind.BLIND_INDEX, indexes),
            (KeyKind.CONVERSATION_ID, conversations),
        ):
            for value in values:
                yield _csv_row((kind.value, value, *common.values()))


def _csv_row(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()
