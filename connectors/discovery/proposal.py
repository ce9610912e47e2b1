"""From what discovery found to a proposed map of the sql kind.

A proposal is plain JSON (tables, their columns' categories, roles and
strategies, counts; never a value) that the officer edits on the dashboard
and `proposal_config` turns into the sql kind's config, which the kind's own
validation then checks.

What is proposed:

- identity: a table holding e-mail or phone columns that reaches no other
  such table through its foreign keys (the customers; an AI log keyed by
  e-mail) is found by those columns;
- parents: every other table is reached through a foreign key, the one
  whose chain reaches an identity table in the fewest steps (tickets ->
  customers, messages -> tickets), preferring a key that names a customer;
  a table reached by neither is listed, unmapped;
- strategies: an AI conversation log's rows are deleted (and so is
  everything under a deleted table); elsewhere the row stays and its
  personal columns are erased: e-mails hashed (still found again on a
  second run), phones, names and addresses emptied, ids pseudonymised, free
  text holding PII redacted.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.discovery.classify import (
    ADDRESS_CATEGORY,
    EMAIL_CATEGORY,
    FLAG_OBJECTION,
    FLAG_RESTRICT,
    FREE_TEXT_PII,
    IDENTIFIER,
    NAME_CATEGORY,
    PHONE_CATEGORY,
    ColumnFinding,
)
from connectors.discovery.reading import TableSchema
from connectors.kinds.sql.config import IDENTIFIER as SQL_NAME

# Roles a column can play in the map.
ROLE_NONE = ""
ROLE_KEY = "key"
ROLE_PARENT = "parent"
ROLE_EMAIL = "identity_email"
ROLE_PHONE = "identity_phone"
ROLE_NAME = "name"
ROLE_RESTRICT = "restrict"
ROLE_OBJECTION = "objection"
ROLES = (
    ROLE_NONE,
    ROLE_KEY,
    ROLE_PARENT,
    ROLE_EMAIL,
    ROLE_PHONE,
    ROLE_NAME,
    ROLE_RESTRICT,
    ROLE_OBJECTION,
)
# How a table's rows are treated.
ROWS_DELETE = "delete"
ROWS_COLUMNS = "columns"
ROWS_KEEP = "keep"
ROW_CHOICES = (ROWS_COLUMNS, ROWS_DELETE, ROWS_KEEP)
STRATEGY_FOR = {
    EMAIL_CATEGORY: "hash",
    PHONE_CATEGORY: "null",
    NAME_CATEGORY: "null",
    ADDRESS_CATEGORY: "null",
    IDENTIFIER: "pseudonymize",
    FREE_TEXT_PII: "redact_pii",
}
AI_LOG = re.compile(
    r"(^|_)(ai|bot|llm|gpt|assistant|chat|chats|chatbot|prompts?|completions?)(_|$)|conversation|transcript"
)
CUSTOMERISH = re.compile(
    r"customer|client|contact|user|person|people|requester|member|subscriber|account"
)
CATEGORY_HINTS = (
    (AI_LOG, "ai_conversation"),
    (re.compile(r"message|comment|reply|replies|note|post"), "support_message"),
    (re.compile(r"ticket|case|issue|request|incident"), "support_ticket"),
    (CUSTOMERISH, "contact"),
    (re.compile(r"invoice|order|billing|payment|subscription"), "billing"),
    (re.compile(r"agent|staff|employee|operator"), "staff"),
)


def _category(table: str) -> str:
    for pattern, category in CATEGORY_HINTS:
        if pattern.search(table.lower()):
            return category
    return table.lower()[:50]


def _usable(name: str) -> bool:
    return bool(SQL_NAME.fullmatch(name)) and len(name) <= 63


def build_proposal(
    schemas: list[TableSchema],
    findings: dict[str, list[ColumnFinding]],
    row_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The proposed map of a store, as the JSON the proposal form edits."""
    identity_tables = {
        schema.name
        for schema in schemas
        if any(
            f.category in (EMAIL_CATEGORY, PHONE_CATEGORY)
            for f in findings.get(schema.name, [])
        )
    }
    parents = _parents(schemas, identity_tables)
    # A table with identity columns that hangs under another identity table
    # (messages with an author e-mail, under tickets) is reached as a child.
    roots = {name for name in identity_tables if name not in parents}
    tables: list[dict[str, Any]] = []
    for schema in schemas:
        name = schema.name
        key = schema.primary_key[0] if len(schema.primary_key) == 1 else ""
        parent = parents.get(name)
        reachable = bool(key) and (name in roots or parent is not None)
        rows = ROWS_DELETE if AI_LOG.search(name.lower()) else ROWS_COLUMNS
        columns = []
        for finding in findings.get(name, []):
            role = ROLE_NONE
            if finding.name == key:
                role = ROLE_KEY
            elif parent is not None and finding.name == parent["column"]:
                role = ROLE_PARENT
            elif name in roots and finding.category == EMAIL_CATEGORY:
                role = ROLE_EMAIL
            elif name in roots and finding.category == PHONE_CATEGORY:
                role = ROLE_PHONE
            elif finding.category == FLAG_RESTRICT:
                role = ROLE_RESTRICT
            elif finding.category == FLAG_OBJECTION:
                role = ROLE_OBJECTION
            strategy = ""
            if role not in (ROLE_KEY, ROLE_PARENT):
                strategy = STRATEGY_FOR.get(finding.category, "")
            columns.append({**finding.to_json(), "role": role, "strategy": strategy})
        name_columns = [c for c in columns if c["category"] == NAME_CATEGORY]
        if name in roots and name_columns:
            name_columns[0]["role"] = ROLE_NAME
        tables.append(
            {
                "table": name,
                "row_count": (row_counts or {}).get(name),
                "key": key,
                "category": _category(name),
                "include": reachable and _usable(name),
                "reachable": reachable,
                "unreachable_reason": ""
                if reachable
                else (
                    "no single-column primary key"
                    if not key
                    else "no e-mail or phone column, and no foreign key to a "
                    "table that has one"
                ),
                "rows": rows,
                "parent": parent,
                "columns": columns,
            }
        )
    _deletes_cascade(tables)
    return {"tables": _tree_order(tables)}


def _tree_order(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each mapped table followed by the tables that belong to it (the
    largest family first), unmapped tables last."""
    children: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        if table["parent"]:
            children.setdefault(table["parent"]["table"], []).append(table)

    def family(table: dict[str, Any], seen: frozenset[str] = frozenset()) -> int:
        below = [c for c in children.get(table["table"], []) if c["table"] not in seen]
        return sum(1 + family(c, seen | {table["table"]}) for c in below)

    ordered: list[dict[str, Any]] = []

    def visit(table: dict[str, Any]) -> None:
        if table in ordered:
            return
        ordered.append(table)
        for child in sorted(
            children.get(table["table"], []), key=lambda c: (-family(c), c["table"])
        ):
            visit(child)

    roots = [t for t in tables if not t["parent"]]
    for root in sorted(roots, key=lambda t: (not t["include"], -family(t), t["table"])):
        visit(root)
    for table in tables:  # anything a cycle left out
        visit(table)
    return sorted(ordered, key=lambda t: not t["include"])


def _parents(
    schemas: list[TableSchema], identity_tables: set[str]
) -> dict[str, dict[str, str]]:
    """Per table, the foreign key that reaches an identity table soonest
    (one naming a customer first, then by column name). An identity table
    takes a parent only when it points straight at a customers-like
    identity table (an AI log with both a customer key and an e-mail)."""
    by_name = {schema.name: schema for schema in schemas}
    depth: dict[str, int] = dict.fromkeys(identity_tables, 0)
    chosen: dict[str, dict[str, str]] = {}

    def candidates(schema: TableSchema) -> list[tuple[tuple[int, int, str], Any]]:
        found = []
        for fk in schema.foreign_keys:
            target = by_name.get(fk.referred_table)
            if len(fk.columns) != 1 or target is None or target.name == schema.name:
                continue
            if (
                target.name not in depth
                or target.name in chosen
                and (chosen[target.name]["table"] == schema.name)
            ):
                continue
            customerish = CUSTOMERISH.search(f"{fk.columns[0]} {target.name}")
            score = (depth[target.name], 0 if customerish else 1, fk.columns[0])
            found.append((score, fk))
        return found

    for schema in schemas:
        if schema.name not in identity_tables or len(schema.primary_key) != 1:
            continue
        direct = [
            (score, fk)
            for score, fk in candidates(schema)
            if CUSTOMERISH.search(fk.referred_table) and score[0] == 0
        ]
        if direct:
            _, fk = min(direct, key=lambda item: item[0])
            chosen[schema.name] = _link(fk)
    for _ in range(len(schemas)):
        changed = False
        for schema in schemas:
            if schema.name in identity_tables or len(schema.primary_key) != 1:
                continue
            options = candidates(schema)
            if not options:
                continue
            score, fk = min(options, key=lambda item: item[0])
            if depth.get(schema.name, len(schemas) + 1) > score[0] + 1:
                depth[schema.name] = score[0] + 1
                chosen[schema.name] = _link(fk)
                changed = True
        if not changed:
            break
    return _acyclic(chosen)


def _link(fk: Any) -> dict[str, str]:
    return {
        "table": fk.referred_table,
        "column": fk.columns[0],
        "references": fk.referred_columns[0],
    }


def _acyclic(chosen: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    for start in list(chosen):
        seen = {start}
        current = chosen.get(start)
        while current is not None:
            if current["table"] in seen:
                chosen.pop(start, None)
                break
            seen.add(current["table"])
            current = chosen.get(current["table"])
    return chosen


def _deletes_cascade(tables: list[dict[str, Any]]) -> None:
    """Rows under a deleted row are deleted too (the sql kind requires it)."""
    by_name = {t["table"]: t for t in tables}
    changed = True
    while changed:
        changed = False
        for table in tables:
            parent = table["parent"]
            if (
                parent
                and table["rows"] != ROWS_DELETE
                and by_name.get(parent["table"], {}).get("rows") == ROWS_DELETE
            ):
                table["rows"] = ROWS_DELETE
                changed = True


def proposal_config(proposal: dict[str, Any], *, dsn: str) -> dict[str, Any]:
    """The sql kind's config a (possibly edited) proposal says; the kind's
    validation checks it (`SqlConnector.validate_config`)."""
    included = [t for t in proposal["tables"] if t.get("include")]
    names = {t["table"] for t in included}
    tables: list[dict[str, Any]] = []
    for table in included:
        entry: dict[str, Any] = {
            "table": table["table"],
            "key": table["key"] or "id",
            "category": table["category"] or table["table"],
        }
        identity: dict[str, list[str]] = {}
        rules: dict[str, str] = {}
        for column in table["columns"]:
            role, name = column.get("role", ""), column["name"]
            if role == ROLE_EMAIL:
                identity.setdefault("email", []).append(name)
            elif role == ROLE_PHONE:
                identity.setdefault("phone", []).append(name)
            elif role == ROLE_NAME and "name_column" not in entry:
                entry["name_column"] = name
            elif role == ROLE_RESTRICT and "restrict_column" not in entry:
                entry["restrict_column"] = name
            elif role == ROLE_OBJECTION and "objection_column" not in entry:
                entry["objection_column"] = name
            if column.get("strategy") and role not in (ROLE_KEY, ROLE_PARENT):
                rules[name] = column["strategy"]
        if identity:
            entry["identity"] = {
                kind: columns[0] if len(columns) == 1 else columns
                for kind, columns in identity.items()
            }
        parent = table.get("parent")
        if parent and parent.get("table") in names:
            entry["parent"] = {
                "table": parent["table"],
                "column": parent["column"],
                "references": parent["references"],
            }
        if table["rows"] == ROWS_DELETE:
            entry["erase"] = "delete"
        elif table["rows"] == ROWS_KEEP:
            entry["erase"] = "keep"
            entry["basis"] = table.get("basis") or "kept: basis to be recorded"
        else:
            entry["erase"] = rules
        tables.append(entry)
    return {"dsn": dsn, "tables": tables}


def data_categories(proposal: dict[str, Any]) -> list[str]:
    """The categories of the tables the proposal maps, in order."""
    seen: list[str] = []
    for table in proposal["tables"]:
        category = (table.get("category") or "").strip().lower()
        if table.get("include") and category and category not in seen:
            seen.append(category)
    return seen
