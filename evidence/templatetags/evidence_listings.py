"""The request pack's tables as listings (`{% load evidence_listings %}`).

The columns and words of the tables they replace, row by row, from the facts;
the layout is evidence/packs/listing.py's. A row whose cells are `(cells,
True)` starts a group (a rule above it: a new store).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from evidence.packs.listing import Row, cols, listing, plain
from evidence.templatetags.evidence_pack import duration_ms, filesize, when

register = template.Library()
Facts = dict[str, Any]


def _erasure(facts: Facts) -> bool:
    return bool(facts["request"]["kind"] == "erasure")


def _verification(store: Facts) -> str:
    check = store.get("verification")
    return str(check["result_label"]).upper() if check else "—"


def _store(store: Facts) -> str:
    """A store as its title (what the subject was told) and its name."""
    title = store.get("title")
    if title and title != store["connector"]:
        return f"{title} ({store['connector']})"
    return str(store["connector"])


def _one_of(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


# --- section 1: timeline --------------------------------------------------------


@register.simple_tag
def pauses_listing(pauses: list[Facts]) -> SafeString:
    rows = []
    for p in pauses:
        until = when(p["ended_at"]) if p["ended_at"] else "still running"
        rows.append([p["reason_label"], when(p["started_at"]), until, p["days"]])
    return listing(
        cols("Waiting for:34", "From:22", "Until:22", "Days:0>"), plain(rows)
    )


@register.simple_tag
def steps_listing(transitions: list[Facts]) -> SafeString:
    return listing(
        cols("#:5>", "When:21", "Step:24", "By:22", "Detail"),
        plain(
            [s["sequence"], when(s["at"]), s["label"], s["actor_label"], s["detail"]]
            for s in transitions
        ),
    )


# --- section 2: stores ------------------------------------------------------------


@register.simple_tag
def stores_listing(facts: Facts) -> SafeString:
    erasure = _erasure(facts)
    columns = cols("Store:22", "Action:16", "Outcome:12", "Found:7>", "Changed:7>")
    columns += cols("Verification:12") if erasure else []
    columns += cols("Exemptions:10>", "Attempts:8>")
    rows = []
    for s in facts["stores"]:
        cells = [
            f"{_store(s)}\n{s['kind']}",
            s["action_label"] + _one_of(s["manual"], "\nby a person", ""),
            str(s["status_label"]).upper(),
            s["found"],
            s["changed"],
        ]
        cells += [_verification(s)] if erasure else []
        rows.append(cells + [len(s["exemptions"]), s["attempt_count"]])
    return listing(columns, plain(rows))


@register.simple_tag
def locations_listing(facts: Facts) -> SafeString:
    erasure = _erasure(facts)
    columns = cols("Store:20", "Location:22", "Found:7>", "Changed:7>")
    columns += cols("Left:5>") if erasure else []
    columns += cols("What was done")
    rows: list[Row] = []
    for s in facts["stores"]:
        if not s["locations"]:
            empty = _one_of(
                s["manual"],
                "done by a person; no per-location counts",
                "no location reported",
            )
            rows.append(([s["connector"], "", "", ""] + [""] * erasure + [empty], True))
        for index, loc in enumerate(s["locations"]):
            cells = [
                _one_of(index == 0, s["connector"], ""),
                loc["location"],
                loc["found"],
                loc["changed"],
            ]
            cells += [loc.get("left_after_verification")] if erasure else []
            rows.append((cells + [loc["treatment"] or "—"], index == 0))
    return listing(columns, rows)


@register.simple_tag
def verification_listing(stores: list[Facts]) -> SafeString:
    return listing(
        cols("Store:22", "Result:10", "Finished:22", "Detail"),
        plain(
            [
                s["connector"],
                _verification(s),
                when(s["verification"].get("finished_at")),
                s["verification"]["summary"],
            ]
            for s in stores
            if s.get("verification")
        ),
    )


@register.simple_tag
def exemptions_listing(stores: list[Facts]) -> SafeString:
    rows = []
    for s in stores:
        for e in s["exemptions"]:
            hold = f" (legal hold {e['hold'][:8]})" if e.get("hold") else ""
            until = f"\nmay persist until {e['until']}" if e.get("until") else ""
            basis = f"{e['basis'] or '—'}\nreason: {e['reason']}{hold}{until}"
            fields = ", ".join(e["fields"]) or "whole rows"
            rows.append([s["connector"], e["location"], fields, e["count"], basis])
    return listing(
        cols(
            "Store:18", "Location:16", "Fields:14", "Records:7>", "Legal basis; reason"
        ),
        plain(rows),
    )


@register.simple_tag
def attempts_listing(stores: list[Facts]) -> SafeString:
    rows: list[Row] = []
    for s in stores:
        if not s["attempts"]:
            empty = _one_of(
                s["manual"],
                "a manual task: no automated attempt",
                "no attempt recorded",
            )
            rows.append(([s["connector"], "", "", "", "", empty], True))
        for index, a in enumerate(s["attempts"]):
            cells = [
                _one_of(index == 0, s["connector"], ""),
                a["number"],
                when(a["started_at"]),
                duration_ms(a["duration_ms"]),
                a["outcome"] or "—",
                a["error"] or "—",
            ]
            rows.append((cells, index == 0))
    return listing(
        cols("Store:20", "No.:4>", "Started:22", "Took:8>", "Result:12", "Error"), rows
    )


@register.simple_tag
def tasks_listing(stores: list[Facts]) -> SafeString:
    rows = []
    for s in stores:
        held = s.get("category_names") or s["categories"]
        store = f"{_store(s)}\nholds {'; '.join(held) or '—'}"
        ran = f"{when(s['started_at'])} →\n{when(s['finished_at'])}"
        notes = [f"task {s['task']}"]
        notes += ["result SHA-256", s["result_digest"]] if s["result_digest"] else []
        notes += [f"Note: {s['note']}"] if s["note"] else []
        notes += [f"Last error: {s['last_error']}"] if s["last_error"] else []
        rows.append([store, ran, "\n".join(notes)])
    return listing(
        cols("Store:22", "Ran:23", "Task id, result digest, notes"), plain(rows)
    )


# --- section 3: access package, rectification -------------------------------------


@register.simple_tag
def contents_listing(contents: list[Facts]) -> SafeString:
    return listing(
        cols("Size:10>", "File in the ZIP"),
        plain([filesize(e["size"]), e["name"]] for e in contents),
    )


@register.simple_tag
def rectification_listing(stores: list[Facts]) -> SafeString:
    rows: list[Row] = []
    for s in stores:
        label = str(s["status_label"]).upper()
        if not s["tables"]:
            what = _one_of(
                s["fields_not_held"] is None,
                "fields as sent to the store; it reports counts only",
                "holds none of these fields",
            )
            rows.append(([s["connector"], label, s["changed"], "", what], True))
        for index, tbl in enumerate(s["tables"]):
            cells = [
                s["connector"],
                label,
                tbl["changed"],
                tbl["location"],
                ", ".join(tbl["fields"]),
            ]
            rows.append((cells, index == 0))
        if s["fields_not_held"]:
            held = f"Not held by {s['connector']}: {', '.join(s['fields_not_held'])}"
            rows.append((["", "", "", "", held], False))
    return listing(
        cols("Store:20", "Outcome:12", "Changed:7>", "Location:20", "Fields written"),
        rows,
    )


# --- section 4: consent; appendix ----------------------------------------------------


def _consent_state(c: Facts) -> str:
    if c["state"] in ("grant", "withdraw"):
        return _one_of(c["state"] == "grant", "GRANTED", "WITHDRAWN")
    return "NO CHOICE\ndefault: " + _one_of(
        c["default_allowed"], "allowed", "not allowed"
    )


@register.simple_tag
def consent_states_listing(states: list[Facts]) -> SafeString:
    return listing(
        cols("Purpose:44", "State:22", "Since:22", "Wording version"),
        plain(
            [
                f"{c['name']} ({c['purpose']})",
                _consent_state(c),
                when(c["since"]),
                c["policy_version"] or "—",
            ]
            for c in states
        ),
    )


@register.simple_tag
def consent_events_listing(events: list[Facts]) -> SafeString:
    return listing(
        cols("When:21", "Purpose:16", "Choice:9", "Wording:7", "Channel:12", "Record"),
        plain(
            [
                when(e["occurred_at"]),
                e["purpose"],
                _one_of(e["action"] == "grant", "granted", "withdrawn"),
                e["policy_version"],
                e["channel"]
                + (f" ({e['source_system']})" if e["source_system"] else ""),
                e["id"],
            ]
            for e in events
        ),
    )


@register.simple_tag
def linked_listing(linked: list[Facts]) -> SafeString:
    return listing(
        cols("Kind:20", "System:20", "Value"),
        plain([i["kind"], i["namespace"] or "—", i["value"]] for i in linked),
    )
