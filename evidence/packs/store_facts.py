"""What each store did for a request, in its evidence pack: the outcome per
store and location, the erasure verification pass, the attempts and the
rectified fields (reads only: counts and field names, never values)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from connectors.choices import Action
from connectors.disclosure import category_name, category_names_of, store_title
from connectors.registry import kind_available
from dsr.choices import RequestKind, TaskStatus
from dsr.models import Request, RequestTask
from evidence.packs.common import iso, plural


def _connector_config(task: RequestTask) -> dict[str, Any]:
    """The store's map as it was when the task ran (the history keeps it)."""
    connector = task.connector
    moment = task.finished_at or task.started_at
    if moment is not None:
        try:
            return dict(connector.history.as_of(moment).config or {})
        except connector.DoesNotExist:
            pass
    return dict(connector.config or {})


def _treatment(kind: str, config: dict[str, Any], location: str) -> str:
    """What erasure does at one location, as the store's kind describes its
    map (connectors.base); "" for a kind that is not installed."""
    cls = kind_available(kind)
    return cls.erasure_described(config, location) if cls is not None else ""


def _attempts(task: RequestTask) -> list[dict[str, Any]]:
    return [
        {
            "number": attempt.number,
            "started_at": iso(attempt.started_at),
            "finished_at": iso(attempt.finished_at),
            "duration_ms": attempt.duration_ms,
            "outcome": attempt.outcome,
            "error": attempt.error,
            "worker": attempt.worker,
        }
        for attempt in sorted(task.tries.all(), key=lambda a: a.number)
    ]


def _locations(
    task: RequestTask, config: dict[str, Any], *, describe: bool
) -> list[dict[str, Any]]:
    return [
        {
            "location": location,
            "found": int(counts.get("found", 0)),
            "changed": int(counts.get("changed", 0)),
            "treatment": (
                _treatment(task.connector.kind, config, location) if describe else ""
            ),
        }
        for location, counts in sorted((task.per_location or {}).items())
    ]


def _waiting_until(task: RequestTask) -> str | None:
    """When a store promised to finish an erasure by a date: that date, UTC
    (the task stays waiting and is checked after it)."""
    if (
        task.status == TaskStatus.WAITING
        and task.action == Action.ERASE
        and task.next_attempt_at is not None
    ):
        return task.next_attempt_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return None


def _task_part(task: RequestTask, *, describe: bool) -> dict[str, Any]:
    config = _connector_config(task) if describe else {}
    until = _waiting_until(task)
    return {
        "task": str(task.public_id),
        "action": task.action,
        "action_label": Action(task.action).label
        if task.action in Action.values
        else task.action,
        "status": task.status,
        "status_label": (
            f"Waiting on {task.connector.name} until {until}"
            if until
            else TaskStatus(task.status).label
        ),
        "waiting_until": until,
        "manual": task.manual,
        "found": task.records_found,
        "changed": task.records_changed,
        "locations": _locations(task, config, describe=describe),
        "exemptions": [
            {
                "location": str(e.get("location", "")),
                "fields": list(e.get("fields") or []),
                "basis": str(e.get("basis", "")),
                "reason": str(e.get("reason", "")),
                "count": int(e.get("count") or 0),
                "hold": str(e.get("hold", "")),
                "until": str(e.get("until", "")),
            }
            for e in (task.exemptions or [])
        ],
        "attempt_count": task.attempts,
        "attempts": _attempts(task),
        "last_error": task.last_error,
        "note": task.status_note,
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "result_digest": task.result_digest,
    }


def _verification(task: RequestTask | None, main: RequestTask) -> dict[str, Any]:
    """The erasure verification pass of one store, in words."""
    if task is None:
        until = _waiting_until(main)
        reason = (
            f"waiting on {main.connector.name} until {until}; the store is "
            "asked again after that date"
            if until
            else "a manual store: confirmed by staff"
            if main.manual
            else "the store cannot be asked again"
            if main.status == TaskStatus.SUCCEEDED
            else "erasure did not succeed, so nothing was verified"
        )
        return {
            "result": "not_run",
            "result_label": "not run",
            "summary": f"Not run: {reason}",
            "task": None,
        }
    part = _task_part(task, describe=False)
    if task.status == TaskStatus.SUCCEEDED:
        if task.records_found:
            result = "failed"
            summary = f"Failed: {plural(task.records_found, 'record')} still found"
        else:
            result = "passed"
            summary = "Passed: nothing left that was to be removed"
    else:
        result = "incomplete"
        summary = f"Could not verify ({TaskStatus(task.status).label.lower()})"
    return {"result": result, "result_label": result, "summary": summary, **part}


def stores_part(request: Request, tasks: list[RequestTask]) -> list[dict[str, Any]]:
    """One entry per store task, an erasure with its verification pass."""
    by_connector: dict[int, list[RequestTask]] = {}
    for task in tasks:
        by_connector.setdefault(task.connector_id, []).append(task)
    stores = []
    for group in by_connector.values():
        main = [t for t in group if t.action != Action.VERIFY_ERASURE]
        checks = [t for t in group if t.action == Action.VERIFY_ERASURE]
        connector = group[0].connector
        for task in main:
            categories = list(connector.data_categories or [])
            names = category_names_of(connector.disclosure)
            store = {
                "connector": connector.name,
                # As the subject's letter names them (connectors.disclosure).
                "title": store_title(connector.name, connector.disclosure),
                "kind": connector.kind,
                "categories": categories,
                "category_names": [category_name(c, names) for c in categories],
                **_task_part(task, describe=task.action == Action.ERASE),
            }
            if task.action == Action.ERASE:
                verification = _verification(checks[0] if checks else None, task)
                left = {
                    loc["location"]: loc["found"]
                    for loc in verification.get("locations", [])
                }
                for loc in store["locations"]:
                    loc["left_after_verification"] = left.get(loc["location"])
                store["verification"] = verification
            stores.append(store)
    return stores


def _rectified_fields(
    task: RequestTask, requested: list[str]
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """Per location, which requested fields the store's map writes (names
    only), and the requested fields it holds nowhere (None: the store's kind
    does not say)."""
    kind = kind_available(task.connector.kind)
    targets = (
        kind.rectification_targets(_connector_config(task), requested)
        if kind is not None
        else None
    )
    if targets is None:
        return [], None
    tables = []
    for location, fields in targets.items():
        counts = (task.per_location or {}).get(location, {})
        tables.append(
            {
                "location": location,
                "fields": fields,
                "found": int(counts.get("found", 0)),
                "changed": int(counts.get("changed", 0)),
            }
        )
    applied = {field for fields in targets.values() for field in fields}
    return tables, sorted(set(requested) - applied)


def rectification_part(
    request: Request, tasks: list[RequestTask]
) -> dict[str, Any] | None:
    """The corrected field names and where each store wrote them."""
    if request.kind != RequestKind.RECTIFICATION:
        return None
    # Field names only: the corrected values are personal data.
    requested = sorted((request.corrections or {}).keys())
    stores = []
    for task in tasks:
        if task.action != Action.RECTIFY:
            continue
        tables, not_held = _rectified_fields(task, requested)
        stores.append(
            {
                "connector": task.connector.name,
                "status": task.status,
                "status_label": TaskStatus(task.status).label,
                "changed": task.records_changed,
                "tables": tables,
                "fields_not_held": not_held,
            }
        )
    return {"requested_fields": requested, "stores": stores}
