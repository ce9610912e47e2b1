"""What the subject is told about a store (GDPR 15(1)-(2)) as plain fields:
purposes and recipients one per line, retention and source as texts, an
automated decision by its logic, significance and consequences, transfers
one per line; each item with "does not apply" and the reason.

A line that starts with `{` is read as one JSON object (a purpose with its
legal basis, a recipient named by category), so a disclosure written
through the API comes back into the form unchanged. The checks themselves
are connectors.disclosure's; a service error's path lands on its item.

Two optional inputs name things as the subject reads them: the store's
title, and its categories' names, one `category: name` per line. Left blank,
the letter and the package write the slugs in words.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

ITEMS = (
    "purposes",
    "recipients",
    "retention",
    "source",
    "automated_decision_making",
    "transfers",
)
DECISION_PARTS = ("logic", "significance", "consequences")
LINES = {"purposes", "recipients", "transfers"}
NAMES_HELP = (
    "Optional, one per line: category: name as the person reads it, e.g. "
    "support_message: Messages you sent to support."
)
NA_HELP = "Tick when this does not apply to the store, and say why."


def _lines_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


def disclosure_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {
        "disclosure_purposes": _lines_field(
            "Purposes", "Why the store holds the data, one purpose per line."
        ),
        "disclosure_recipients": _lines_field(
            "Recipients",
            "Who receives the data (named; processors too), one per line.",
        ),
        "disclosure_retention": forms.CharField(
            label="Retention",
            required=False,
            max_length=1000,
            help_text="How long the data is kept, or the criteria for it.",
        ),
        "disclosure_source": forms.CharField(
            label="Source",
            required=False,
            max_length=1000,
            help_text="Where the data comes from when not from the person.",
        ),
        "disclosure_adm_logic": forms.CharField(
            label="Automated decision: the logic involved",
            required=False,
            max_length=2000,
        ),
        "disclosure_adm_significance": forms.CharField(
            label="Its significance", required=False, max_length=2000
        ),
        "disclosure_adm_consequences": forms.CharField(
            label="Its envisaged consequences", required=False, max_length=2000
        ),
        "disclosure_transfers": _lines_field(
            "Transfers outside the EEA / UK",
            "One per line: country | safeguards | recipient, e.g. United States "
            "| EU Standard Contractual Clauses | Helpdesk Cloud Inc.",
        ),
    }
    fields["disclosure_title"] = forms.CharField(
        label="Title for the subject",
        required=False,
        max_length=120,
        help_text="Optional: the store as the person reads it in the letter and "
        "the package, e.g. Support helpdesk (default: its name in words).",
    )
    fields["disclosure_category_names"] = _lines_field("Category names", NAMES_HELP)
    for item in ITEMS:
        fields[f"disclosure_{item}_na"] = forms.BooleanField(
            label="Does not apply", required=False, help_text=NA_HELP
        )
        fields[f"disclosure_{item}_reason"] = forms.CharField(
            label="Why it does not apply", required=False, max_length=500
        )
    return fields


# A service's error path -> the input that holds it.
SERVICE_FIELDS = {
    **{f"disclosure.{item}": f"disclosure_{item}" for item in ITEMS},
    "disclosure.automated_decision_making": "disclosure_adm_logic",
    "disclosure": "disclosure_purposes",
    "disclosure.title": "disclosure_title",
    "disclosure.category_names": "disclosure_category_names",
}


def _entry_line(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    return json.dumps(entry, ensure_ascii=False)


def _transfer_line(entry: Any) -> str:
    if isinstance(entry, dict) and set(entry) <= {"country", "safeguards", "recipient"}:
        parts = [entry.get("country", ""), entry.get("safeguards", "")]
        if entry.get("recipient"):
            parts.append(entry["recipient"])
        return " | ".join(str(part) for part in parts)
    return _entry_line(entry)


def disclosure_initial(disclosure: dict[str, Any] | None) -> dict[str, Any]:
    """The inputs' values for a stored disclosure."""
    initial: dict[str, Any] = {}
    stored = disclosure or {}
    if isinstance(stored.get("title"), str):
        initial["disclosure_title"] = stored["title"]
    names = stored.get("category_names")
    if isinstance(names, dict):
        initial["disclosure_category_names"] = "\n".join(
            f"{category}: {name}" for category, name in names.items()
        )
    for item, value in stored.items():
        if item not in ITEMS:
            continue
        if isinstance(value, dict) and "not_applicable" in value:
            initial[f"disclosure_{item}_na"] = True
            initial[f"disclosure_{item}_reason"] = value["not_applicable"]
            continue
        entries = value if isinstance(value, list) else [value]
        if item == "automated_decision_making":
            first = entries[0] if entries and isinstance(entries[0], dict) else {}
            for part in DECISION_PARTS:
                initial[f"disclosure_adm_{part}"] = first.get(part, "")
        elif item == "transfers":
            initial["disclosure_transfers"] = "\n".join(map(_transfer_line, entries))
        elif item in LINES:
            initial[f"disclosure_{item}"] = "\n".join(map(_entry_line, entries))
        else:
            initial[f"disclosure_{item}"] = value if isinstance(value, str) else ""
    return initial


def _line_entry(line: str) -> Any:
    if line.startswith("{"):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return line  # the service says what is wrong with it
    return line


def _transfer_entry(line: str) -> Any:
    if line.startswith("{"):
        return _line_entry(line)
    parts = [part.strip() for part in line.split("|")]
    entry = {"country": parts[0], "safeguards": parts[1] if len(parts) > 1 else ""}
    if len(parts) > 2 and parts[2]:
        entry["recipient"] = " | ".join(parts[2:])
    return entry


def disclosure_from(form: forms.Form) -> dict[str, Any]:
    """The disclosure the inputs say; an item neither filled in nor marked
    as not applying is an error on its input (added to `form`)."""
    data = form.cleaned_data
    disclosure: dict[str, Any] = {}
    for item in ITEMS:
        if data.get(f"disclosure_{item}_na"):
            reason = data.get(f"disclosure_{item}_reason", "").strip()
            if not reason:
                form.add_error(
                    f"disclosure_{item}_reason", "Say why this does not apply."
                )
            disclosure[item] = {"not_applicable": reason}
            continue
        value = _item_value(item, data)
        if value in ("", [], {}):
            target = (
                "disclosure_adm_logic"
                if item == "automated_decision_making"
                else f"disclosure_{item}"
            )
            form.add_error(
                target, "Fill this in, or tick “does not apply” and say why."
            )
            continue
        disclosure[item] = value
    title = data.get("disclosure_title", "").strip()
    if title:
        disclosure["title"] = title
    names = _category_names(form, data.get("disclosure_category_names", ""))
    if names:
        disclosure["category_names"] = names
    return disclosure


def _category_names(form: forms.Form, text: str) -> dict[str, str]:
    """`category: name` lines as an object; a line without both is an error."""
    names: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        category, colon, name = line.partition(":")
        if not colon or not category.strip() or not name.strip():
            form.add_error(
                "disclosure_category_names",
                f"Write each line as category: name (not “{line.strip()[:60]}”).",
            )
            continue
        names[category.strip()] = name.strip()
    return names


def _item_value(item: str, data: dict[str, Any]) -> Any:
    if item == "automated_decision_making":
        parts = {
            part: data.get(f"disclosure_adm_{part}", "") for part in DECISION_PARTS
        }
        return parts if any(parts.values()) else {}
    text = data.get(f"disclosure_{item}", "")
    if item not in LINES:
        return text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    read = _transfer_entry if item == "transfers" else _line_entry
    return [read(line) for line in lines]
