"""What an sql store's map says erasure and rectification do, in words, for
the evidence pack: read from a config (the one the task ran under), never
from the store, and never a value."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

_STRATEGY_WORDS = {
    "null": "emptied",
    "mask": "masked",
    "hash": "hashed",
    "pseudonymize": "pseudonymised",
    "redact_pii": "PII redacted",
    "keep": "kept",
}


def erasure_described(config: Mapping[str, Any], location: str) -> str:
    """What erasure does to one table of the map ("" for a table it lacks)."""
    table = next(
        (t for t in config.get("tables", []) if t.get("table") == location), None
    )
    if table is None:
        return ""
    erase = table.get("erase")
    if erase == "delete":
        return "rows deleted"
    if erase == "keep":
        return f"rows kept ({table.get('basis', 'basis recorded')})"
    if not isinstance(erase, dict):
        return ""
    by_strategy: dict[str, list[str]] = {}
    for column, rule in erase.items():
        strategy = rule.get("strategy") if isinstance(rule, dict) else rule
        by_strategy.setdefault(str(strategy), []).append(column)
    return "; ".join(
        f"{_STRATEGY_WORDS.get(strategy, strategy)}: {', '.join(sorted(columns))}"
        for strategy, columns in sorted(by_strategy.items())
    )


def rectification_targets(
    config: Mapping[str, Any], fields: Collection[str]
) -> dict[str, list[str]]:
    """Per table, in the map's order, which of `fields` its `rectify` writes."""
    targets: dict[str, list[str]] = {}
    for table in config.get("tables", []):
        mapping = table.get("rectify") or {}
        written = sorted(name for name in fields if name in mapping)
        if written:
            targets[str(table.get("table"))] = written
    return targets
