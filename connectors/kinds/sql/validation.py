"""Checking and parsing an SQL store's map (its shape: see `config`).

Every error is a ConfigError whose `field` is the path inside the config,
e.g. `config.tables[2].identity` or `config.tables[0].erase.email`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from connectors.base import ConfigError
from connectors.data_points import KINDS as DATA_POINT_KINDS
from connectors.kinds.sql.config import (
    DEFAULT_MASK,
    FIELD_STRATEGIES,
    IDENTIFIER,
    IDENTITY_KINDS,
    ROW_STRATEGIES,
    SCHEMES,
    TABLE_KEYS,
    TOP_KEYS,
    FieldRule,
    IdentityColumn,
    ParentLink,
    StoreMap,
    TableMap,
)


def validate(config: Any) -> dict[str, Any]:
    """Return the config, checked; raise ConfigError naming the bad path."""
    parse(config)
    return dict(config)


def parse(config: Any) -> StoreMap:
    if not isinstance(config, dict):
        raise ConfigError("must be an object", field="config")
    for key in config:
        if key not in TOP_KEYS:
            raise ConfigError(
                f"unknown key; expected {', '.join(sorted(TOP_KEYS))}",
                field=f"config.{key}",
            )
    dsn = clean_dsn(config.get("dsn"))
    raw_tables = config.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        raise ConfigError("give a non-empty list of tables", field="config.tables")
    tables = [_table(raw, f"config.tables[{i}]") for i, raw in enumerate(raw_tables)]
    _check_relations(tables)
    keys = {table.table: table.key for table in tables}
    return StoreMap(
        dsn=dsn,
        tables=tuple(
            replace(t, parent=replace(t.parent, references=keys[t.parent.table]))
            if t.parent and not t.parent.references
            else t
            for t in tables
        ),
        batch_size=_int(config, "batch_size", 1000, 10, 100_000),
        connect_timeout=_int(config, "connect_timeout", 10, 1, 300),
        prepared_statements=_bool(config, "prepared_statements", True),
        conversations=_conversations(config, keys),
    )


def _conversations(config: dict[str, Any], keys: dict[str, str]) -> str:
    name = config.get("conversations", "")
    if name != "" and (not isinstance(name, str) or name not in keys):
        raise ConfigError(
            "must name a table of the map (its keys are conversation ids)",
            field="config.conversations",
        )
    return str(name)


def _int(config: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = config.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise ConfigError(f"must be a whole number {low}-{high}", field=f"config.{key}")
    return value


def _bool(config: dict[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError("must be true or false", field=f"config.{key}")
    return value


def clean_dsn(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "give the database URL, e.g. postgresql://host/db or sqlite:///path.db",
            field="config.dsn",
        )
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in SCHEMES:
        raise ConfigError(
            f"unsupported database URL; it must start with {', '.join(SCHEMES)}://",
            field="config.dsn",
        )
    try:
        parts = urlsplit(value)
        has_password = parts.password is not None
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError("malformed database URL", field="config.dsn") from exc
    if has_password or "password=" in parts.query.lower():
        raise ConfigError(
            "the URL holds a password: put it in secrets.password instead",
            field="config.dsn",
        )
    if scheme == "sqlite" and not value[len("sqlite:///") :].strip():
        raise ConfigError(
            "give the file, e.g. sqlite:///data/store.db", field="config.dsn"
        )
    return value.strip()


def _identifier(value: Any, path: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise ConfigError(
            "must be a plain SQL name (letters, digits, underscore)", field=path
        )
    return value


def _text(raw: dict[str, Any], key: str, path: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError("must be text", field=f"{path}.{key}")
    return value.strip()


def _table(raw: Any, path: str) -> TableMap:
    if not isinstance(raw, dict):
        raise ConfigError("must be an object", field=path)
    for key in raw:
        if key not in TABLE_KEYS:
            raise ConfigError("unknown key", field=f"{path}.{key}")
    name = _identifier(raw.get("table"), f"{path}.table")
    key = _identifier(raw.get("key", "id"), f"{path}.key")
    category = _text(raw, "category", path) or name
    identity = _identity(raw.get("identity"), f"{path}.identity")
    parent = _parent(raw.get("parent"), f"{path}.parent")
    if not identity and parent is None:
        raise ConfigError(
            f"table {name} is reachable from no identity: give identity columns "
            "or a parent table",
            field=f"{path}.identity",
        )
    extras = {
        extra: _identifier(raw[extra], f"{path}.{extra}") if raw.get(extra) else ""
        for extra in ("name_column", "restrict_column", "objection_column")
    }
    row_strategy, rules = _erase(raw.get("erase"), f"{path}.erase")
    basis, reason = _text(raw, "basis", path), _text(raw, "reason", path)
    table = TableMap(
        table=name,
        key=key,
        category=category,
        identity=identity,
        parent=parent,
        row_strategy=row_strategy,
        rules=rules,
        basis=basis,
        reason=reason,
        rectify=_rectify(raw.get("rectify"), f"{path}.rectify"),
        data_points=_data_points(raw.get("data_points"), f"{path}.data_points"),
        **extras,
    )
    _check_rules(table, path)
    return table


def _identity(raw: Any, path: str) -> tuple[IdentityColumn, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(
            'must map identifier kinds to columns, e.g. {"email": "email"}', field=path
        )
    columns: list[IdentityColumn] = []
    for kind, spec in raw.items():
        if kind not in IDENTITY_KINDS:
            raise ConfigError(
                f"unknown identifier kind; one of {', '.join(IDENTITY_KINDS)}",
                field=f"{path}.{kind}",
            )
        specs = spec if isinstance(spec, list) else [spec]
        for index, item in enumerate(specs):
            item_path = f"{path}.{kind}" + (
                f"[{index}]" if isinstance(spec, list) else ""
            )
            if isinstance(item, str):
                columns.append(IdentityColumn(kind, _identifier(item, item_path)))
                continue
            if not isinstance(item, dict) or set(item) - {"column", "system", "exact"}:
                raise ConfigError(
                    'give a column name or {"column": ..., "system": ..., '
                    '"exact": true|false}',
                    field=item_path,
                )
            system = item.get("system", "")
            if not isinstance(system, str):
                raise ConfigError("must be text", field=f"{item_path}.system")
            exact = item.get("exact", False)
            if not isinstance(exact, bool):
                raise ConfigError("must be true or false", field=f"{item_path}.exact")
            column = _identifier(item.get("column"), f"{item_path}.column")
            columns.append(IdentityColumn(kind, column, system.strip(), exact=exact))
    return tuple(columns)


def _parent(raw: Any, path: str) -> ParentLink | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"table", "column", "references"}:
        raise ConfigError(
            'give {"table": parent table, "column": the column pointing at it}',
            field=path,
        )
    return ParentLink(
        table=_identifier(raw.get("table"), f"{path}.table"),
        column=_identifier(raw.get("column"), f"{path}.column"),
        references=_identifier(raw["references"], f"{path}.references")
        if "references" in raw
        else "",
    )


def _erase(raw: Any, path: str) -> tuple[str, tuple[FieldRule, ...]]:
    if isinstance(raw, str):
        if raw not in ROW_STRATEGIES:
            raise ConfigError(
                'use "delete", "keep", or a map of column to strategy', field=path
            )
        return raw, ()
    if not isinstance(raw, dict):
        raise ConfigError(
            'say how erasure treats this table: "delete", "keep", or a map of '
            "column to strategy",
            field=path,
        )
    rules: list[FieldRule] = []
    for column, spec in raw.items():
        rule_path = f"{path}.{column}"
        _identifier(column, rule_path)
        options: dict[str, Any] = {}
        strategy = spec
        if isinstance(spec, dict):
            if set(spec) - {"strategy", "basis", "reason", "value"}:
                raise ConfigError(
                    'use {"strategy": ..., "basis": ..., "reason": ..., "value": ...}',
                    field=rule_path,
                )
            strategy = spec.get("strategy")
            for option in ("basis", "reason", "value"):
                if option in spec and not isinstance(spec[option], str):
                    raise ConfigError("must be text", field=f"{rule_path}.{option}")
            options = {k: v.strip() for k, v in spec.items() if k != "strategy"}
        if strategy == "delete":
            raise ConfigError(
                'delete removes whole rows: write "erase": "delete" for the table',
                field=rule_path,
            )
        if strategy not in FIELD_STRATEGIES:
            raise ConfigError(
                f"unknown strategy {strategy!r}; one of {', '.join(FIELD_STRATEGIES)}",
                field=rule_path,
            )
        if strategy == "mask" and options.get("value") == "":
            raise ConfigError("a mask needs a value", field=f"{rule_path}.value")
        rules.append(
            FieldRule(
                column=column,
                strategy=strategy,
                basis=options.get("basis", ""),
                reason=options.get("reason", ""),
                mask=options.get("value") or DEFAULT_MASK,
            )
        )
    return "", tuple(rules)


def _rectify(raw: Any, path: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(
            'map request fields to columns, e.g. {"name": "full_name"}', field=path
        )
    return tuple(
        (str(name), _identifier(column, f"{path}.{name}"))
        for name, column in raw.items()
    )


def _data_points(raw: Any, path: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(
            'map data point kinds to columns, e.g. {"postal_code": "zip"}', field=path
        )
    for kind in raw:
        if kind not in DATA_POINT_KINDS:
            raise ConfigError(
                f"unknown data point; one of {', '.join(DATA_POINT_KINDS)}",
                field=f"{path}.{kind}",
            )
    return tuple(
        (str(kind), _identifier(column, f"{path}.{kind}"))
        for kind, column in raw.items()
    )


def _check_rules(table: TableMap, path: str) -> None:
    if table.row_strategy:
        return
    for rule in table.rules:
        if rule.column == table.key:
            raise ConfigError(
                "the key column cannot be changed; delete the row instead",
                field=f"{path}.erase.{rule.column}",
            )
        if table.parent and rule.column == table.parent.column:
            if rule.strategy not in ("null", "keep"):
                raise ConfigError(
                    "the parent column can only be detached (null) or kept",
                    field=f"{path}.erase.{rule.column}",
                )
    for identity in table.identity:
        if table.rule(identity.column) is None:
            raise ConfigError(
                f"identity column {identity.column} has no strategy; erase it "
                'or keep it with {"strategy": "keep", "basis": ...}',
                field=f"{path}.erase",
            )


def _check_relations(tables: list[TableMap]) -> None:
    index = {}
    for i, table in enumerate(tables):
        if table.table in index:
            raise ConfigError(
                "this table is listed twice", field=f"config.tables[{i}].table"
            )
        index[table.table] = i
    for i, table in enumerate(tables):
        if table.parent is None:
            continue
        path = f"config.tables[{i}].parent"
        if table.parent.table not in index:
            raise ConfigError(
                f"unknown parent table {table.parent.table}; list it in tables",
                field=f"{path}.table",
            )
        chain = [table.table]
        current: TableMap | None = table
        while current is not None and current.parent is not None:
            name = current.parent.table
            if name in chain:
                raise ConfigError(
                    f"parent cycle: {' -> '.join([*chain, name])}", field=path
                )
            chain.append(name)
            current = tables[index[name]] if name in index else None
        parent = tables[index[table.parent.table]]
        if parent.row_strategy == "delete":
            detached = table.rule(table.parent.column)
            if table.row_strategy != "delete" and not (
                detached and detached.strategy == "null"
            ):
                raise ConfigError(
                    f"{parent.table} rows are deleted, so {table.table} rows must be "
                    f'deleted too ("erase": "delete") or detached '
                    f'("{table.parent.column}": "null")',
                    field=f"config.tables[{i}].erase",
                )
