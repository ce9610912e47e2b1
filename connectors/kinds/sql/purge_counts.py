"""The counting side of an SQL purge: what a dry run reports and what holds
kept, with the same conditions as the run's own statements."""

from __future__ import annotations

from typing import Any

from connectors.base import TableCounts
from connectors.kinds.sql.purge_plan import PurgePlan
from connectors.kinds.sql.purge_session import PurgeSession


def changes_count(
    plan: PurgePlan,
    session: PurgeSession,
    counts: dict[str, TableCounts],
    upper_key: Any,
) -> None:
    """Add what a run up to `upper_key` would change to `counts`, per table
    (anonymize and delete: counted in SQL, with the run's conditions)."""
    q = plan.q
    where, params = plan.candidates()
    bounded, bound_params = plan.range_sql(None, upper_key)
    rows = f"{where} AND {bounded}"
    rows_params = params + bound_params
    with session.step(f"counting rows in table {plan.table.table}"):
        total = int(
            session.scalar(
                f"SELECT COUNT(*) FROM {q(plan.table.table)} WHERE {rows}",
                rows_params,
            )
            or 0
        )
    counts.setdefault(plan.table.table, TableCounts()).add(
        TableCounts(examined=total, changed=total)
    )
    for table, rows_sql, rows_sql_params in plan.descendants(
        plan.table, rows, rows_params
    ):
        changing = plan.descendant_changing(table, rows_sql)
        if changing is None:
            continue
        with session.step(f"counting rows in table {table.table}"):
            found = int(
                session.scalar(
                    f"SELECT COUNT(*) FROM {q(table.table)} WHERE {changing}",
                    plan.descendant_params(table, rows_sql_params),
                )
                or 0
            )
        counts.setdefault(table.table, TableCounts()).add(
            TableCounts(examined=found, changed=found)
        )


def held_count(
    plan: PurgePlan, session: PurgeSession, upper_key: Any
) -> dict[str, int]:
    """Rows past the cutoff left alone because of a hold, per table."""
    if upper_key is None:
        return {}
    q = plan.q
    deleting = plan.spec.action == "delete"
    age, params = plan.age_sql()
    bounded, bound_params = plan.range_sql(None, upper_key)
    held, held_params = plan.held_sql(plan.table, deleting=deleting)
    result: dict[str, int] = {}
    if held:
        extra = ""
        if plan.spec.action == "anonymize":
            extra = " AND " + plan.pending_sql(plan.table, plan.columns)
        with session.step(f"counting held rows in table {plan.table.table}"):
            result[plan.table.table] = int(
                session.scalar(
                    f"SELECT COUNT(*) FROM {q(plan.table.table)} WHERE {age} "
                    f"AND {bounded} AND ({held}){extra}",
                    params + bound_params + held_params,
                )
                or 0
            )
    if deleting or not plan.spec.children:
        # Deleting: a held descendant holds its ancestors, counted above.
        return result
    where, where_params = plan.candidates()
    rows = f"{where} AND {bounded}"
    for table, rows_sql, rows_params in plan.descendants(
        plan.table, rows, where_params + bound_params
    ):
        if not plan.child_columns(table):
            continue
        child_held, child_params = plan.held_sql(table, deleting=False)
        if not child_held:
            continue
        with session.step(f"counting held rows in table {table.table}"):
            result[table.table] = int(
                session.scalar(
                    f"SELECT COUNT(*) FROM {q(table.table)} WHERE {rows_sql} "
                    f"AND ({child_held})",
                    rows_params + child_params,
                )
                or 0
            )
    return result
