"""The request pack's tables as listings (`{% load evidence_listings %}`).

The columns and words of the tables they replace, row by row, from the facts;
the layout is evidence/packs/listing.py's.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from evidence.packs.listing import Col, Row, listing
from evidence.templatetags.evidence_pack import duration_ms, filesize, when

register = template.Library()


def _erasure(facts: dict[str, Any]) -> bool:
    return bool(facts["request"]["kind"] == "erasure")


def _verification(store: dict[str, Any]) -> str:
    check = store.get("verification")
    return str(check["result_label"]).upper() if check else "—"


# --- section 1: timeline --------------------------------------------------------


@register.simple_tag
def pauses_listing(pauses: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("Waiting for", 34),
        Col("From", 22),
        Col("Until", 22),
        Col("Days", 0, True),
    ]
    return listing(
        columns,
        (
            (
                [
                    p["reason_label"],
                    when(p["started_at"]),
                    when(p["ended_at"]) if p["ended_at"] else "still running",
                    p["days"],
                ],
                False,
            )
            for p in pauses
        ),
    )


@register.simple_tag
def steps_listing(transitions: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("#", 5, True),
        Col("When", 21),
        Col("Step", 24),
        Col("By", 22),
        Col("Detail"),
    ]
    return listing(
        columns,
        (
            (
                [
                    s["sequence"],
                    when(s["at"]),
                    s["label"],
                    s["actor_label"],
                    s["detail"],
                ],
                False,
            )
            for s in transitions
        ),
    )


# --- section 2: stores ------------------------------------------------------------


@register.simple_tag
def stores_listing(facts: dict[str, Any]) -> SafeString:
    erasure = _erasure(facts)
    columns = [
        Col("Store", 22),
        Col("Action", 16),
        Col("Outcome", 12),
        Col("Found", 7, True),
        Col("Changed", 7, True),
    ]
    columns += [Col("Verification", 12)] if erasure else []
    columns += [Col("Exemptions", 10, True), Col("Attempts", 8, True)]
    rows = []
    for s in facts["stores"]:
        cells = [
            f"{s['connector']}\n{s['kind']}",
            s["action_label"] + ("\nby a person" if s["manual"] else ""),
            str(s["status_label"]).upper(),
            s["found"],
            s["changed"],
        ]
        cells += [_verification(s)] if erasure else []
        cells += [len(s["exemptions"]), s["attempt_count"]]
        rows.append((cells, False))
    return listing(columns, rows)


@register.simple_tag
def locations_listing(facts: dict[str, Any]) -> SafeString:
    erasure = _erasure(facts)
    columns = [
        Col("Store", 20),
        Col("Location", 22),
        Col("Found", 7, True),
        Col("Changed", 7, True),
    ]
    columns += [Col("Left", 5, True)] if erasure else []
    columns += [Col("What was done")]
    rows: list[Row] = []
    for s in facts["stores"]:
        if not s["locations"]:
            empty = (
                "done by a person; no per-location counts"
                if s["manual"]
                else "no location reported"
            )
            cells = [s["connector"], "", "", ""] + ([""] if erasure else []) + [empty]
            rows.append((cells, True))
        for index, loc in enumerate(s["locations"]):
            cells = [
                s["connector"] if index == 0 else "",
                loc["location"],
                loc["found"],
                loc["changed"],
            ]
            cells += [loc.get("left_after_verification")] if erasure else []
            cells += [loc["treatment"] or "—"]
            rows.append((cells, index == 0))
    return listing(columns, rows)


@register.simple_tag
def verification_listing(stores: list[dict[str, Any]]) -> SafeString:
    columns = [Col("Store", 22), Col("Result", 10), Col("Finished", 22), Col("Detail")]
    return listing(
        columns,
        (
            (
                [
                    s["connector"],
                    _verification(s),
                    when(s["verification"].get("finished_at")),
                    s["verification"]["summary"],
                ],
                False,
            )
            for s in stores
            if s.get("verification")
        ),
    )


@register.simple_tag
def exemptions_listing(stores: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("Store", 18),
        Col("Location", 16),
        Col("Fields", 14),
        Col("Records", 7, True),
        Col("Legal basis; reason"),
    ]
    rows = []
    for s in stores:
        for e in s["exemptions"]:
            hold = f" (legal hold {e['hold'][:8]})" if e.get("hold") else ""
            basis = f"{e['basis'] or '—'}\nreason: {e['reason']}{hold}"
            fields = ", ".join(e["fields"]) or "whole rows"
            rows.append(
                ([s["connector"], e["location"], fields, e["count"], basis], False)
            )
    return listing(columns, rows)


@register.simple_tag
def attempts_listing(stores: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("Store", 20),
        Col("No.", 4, True),
        Col("Started", 22),
        Col("Took", 8, True),
        Col("Result", 12),
        Col("Error"),
    ]
    rows: list[Row] = []
    for s in stores:
        if not s["attempts"]:
            empty = (
                "a manual task: no automated attempt"
                if s["manual"]
                else "no attempt recorded"
            )
            rows.append(([s["connector"], "", "", "", "", empty], True))
        for index, a in enumerate(s["attempts"]):
            rows.append(
                (
                    [
                        s["connector"] if index == 0 else "",
                        a["number"],
                        when(a["started_at"]),
                        duration_ms(a["duration_ms"]),
                        a["outcome"] or "—",
                        a["error"] or "—",
                    ],
                    index == 0,
                )
            )
    return listing(columns, rows)


@register.simple_tag
def tasks_listing(stores: list[dict[str, Any]]) -> SafeString:
    columns = [Col("Store", 22), Col("Ran", 23), Col("Task id, result digest, notes")]
    rows = []
    for s in stores:
        store = f"{s['connector']}\nholds {', '.join(s['categories']) or '—'}"
        ran = f"{when(s['started_at'])} →\n{when(s['finished_at'])}"
        notes = [f"task {s['task']}"]
        if s["result_digest"]:
            notes += ["result SHA-256", s["result_digest"]]
        if s["note"]:
            notes.append(f"Note: {s['note']}")
        if s["last_error"]:
            notes.append(f"Last error: {s['last_error']}")
        rows.append(([store, ran, "\n".join(notes)], False))
    return listing(columns, rows)


# --- section 3: access package, rectification -------------------------------------


@register.simple_tag
def contents_listing(contents: list[dict[str, Any]]) -> SafeString:
    columns = [Col("Size", 10, True), Col("File in the ZIP")]
    return listing(
        columns, (([filesize(e["size"]), e["name"]], False) for e in contents)
    )


@register.simple_tag
def rectification_listing(stores: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("Store", 20),
        Col("Outcome", 12),
        Col("Changed", 7, True),
        Col("Location", 20),
        Col("Fields written"),
    ]
    rows: list[Row] = []
    for s in stores:
        label = str(s["status_label"]).upper()
        if not s["tables"]:
            what = (
                "fields as sent to the store; it reports counts only"
                if s["fields_not_held"] is None
                else "holds none of these fields"
            )
            rows.append(([s["connector"], label, s["changed"], "", what], True))
        for index, tbl in enumerate(s["tables"]):
            rows.append(
                (
                    [
                        s["connector"],
                        label,
                        tbl["changed"],
                        tbl["location"],
                        ", ".join(tbl["fields"]),
                    ],
                    index == 0,
                )
            )
        if s["fields_not_held"]:
            not_held = (
                f"Not held by {s['connector']}: {', '.join(s['fields_not_held'])}"
            )
            rows.append((["", "", "", "", not_held], False))
    return listing(columns, rows)


# --- section 4: consent ---------------------------------------------------------------


@register.simple_tag
def consent_states_listing(states: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("Purpose", 44),
        Col("State", 22),
        Col("Since", 22),
        Col("Wording version"),
    ]
    rows = []
    for c in states:
        if c["state"] == "grant":
            state = "GRANTED"
        elif c["state"] == "withdraw":
            state = "WITHDRAWN"
        else:
            allowed = "allowed" if c["default_allowed"] else "not allowed"
            state = f"NO CHOICE\ndefault: {allowed}"
        rows.append(
            (
                [
                    f"{c['name']} ({c['purpose']})",
                    state,
                    when(c["since"]),
                    c["policy_version"] or "—",
                ],
                False,
            )
        )
    return listing(columns, rows)


@register.simple_tag
def consent_events_listing(events: list[dict[str, Any]]) -> SafeString:
    columns = [
        Col("When", 21),
        Col("Purpose", 16),
        Col("Choice", 9),
        Col("Wording", 7),
        Col("Channel", 12),
        Col("Record"),
    ]
    rows = []
    for e in events:
        channel = e["channel"] + (
            f" ({e['source_system']})" if e["source_system"] else ""
        )
        choice = "granted" if e["action"] == "grant" else "withdrawn"
        rows.append(
            (
                [
                    when(e["occurred_at"]),
                    e["purpose"],
                    choice,
                    e["policy_version"],
                    channel,
                    e["id"],
                ],
                False,
            )
        )
    return listing(columns, rows)


@register.simple_tag
def linked_listing(linked: list[dict[str, Any]]) -> SafeString:
    columns = [Col("Kind", 20), Col("System", 20), Col("Value")]
    return listing(
        columns,
        (([i["kind"], i["namespace"] or "—", i["value"]], False) for i in linked),
    )
