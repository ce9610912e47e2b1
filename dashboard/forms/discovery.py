"""Forms of SQL discovery: the DSN to scan, and the proposed map to edit.

The DSN is a secret (it may hold the password): a password input, never
rendered back. The proposal form has, per table, whether to map it, its
category and what erasure does with its rows; per column, its category,
its role in the map and its erasure strategy. The key and the parent
column come from the schema and are shown, not edited.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms

from connectors.discovery.classify import CATEGORIES, IDENTIFIER, PERSONAL
from connectors.discovery.proposal import (
    ROLE_KEY,
    ROLE_PARENT,
    ROLES,
    ROW_CHOICES,
)
from connectors.kinds.sql.config import FIELD_STRATEGIES
from dashboard.forms.connector_disclosure import (
    SERVICE_FIELDS as DISCLOSURE_FIELDS,
)
from dashboard.forms.connector_disclosure import disclosure_fields, disclosure_from
from privacydesk.forms import ServiceErrorsMixin

CATEGORY_LABELS = {
    "email": "E-mail",
    "phone": "Phone",
    "name": "Person's name",
    "address": "Address",
    "free_text_pii": "Free text with PII",
    "free_text": "Free text",
    "identifier": "Identifier",
    "flag_restrict": "Restriction flag",
    "flag_objection": "Objection flag",
    "not_personal": "Not personal",
}
ROLE_LABELS = {
    "": "—",
    "key": "Key",
    "parent": "Parent link",
    "identity_email": "Identity: e-mail",
    "identity_phone": "Identity: phone",
    "name": "The subject's name",
    "restrict": "Restriction flag",
    "objection": "Objection flag",
}
STRATEGY_LABELS = {
    "": "— leave as is",
    "null": "Empty it (null)",
    "mask": "Mask (***)",
    "hash": "Hash (keyed)",
    "pseudonymize": "Pseudonymise",
    "redact_pii": "Redact PII in the text",
    "keep": "Keep (needs a basis)",
}
ROW_LABELS = {
    "columns": "Keep the row, erase its personal columns",
    "delete": "Delete the subject's rows",
    "keep": "Keep the rows (legal basis)",
}
COUNTED = PERSONAL | {IDENTIFIER}  # what "personal columns" counts on the page
EDITABLE_ROLES = [r for r in ROLES if r not in (ROLE_KEY, ROLE_PARENT)]


class DiscoveryStartForm(forms.Form):
    """The store to scan."""

    dsn = forms.CharField(
        label="Database URL",
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "code"},
        ),
        help_text="postgresql://user:password@host:5432/db, "
        "mysql://user:password@host/db or sqlite:////path/to/store.db. A "
        "read-only account is enough. Kept encrypted, never shown again: its "
        "password becomes the connector's secret.",
    )


class DiscoveryProposalForm(ServiceErrorsMixin, forms.Form):
    """The proposed map, editable, and the connector around it."""

    show_error_path = True

    name = forms.CharField(
        max_length=60,
        help_text="A short slug, e.g. helpdesk-db; shown on tasks and in evidence.",
    )
    data_categories = forms.CharField(
        label="Data categories",
        required=False,
        max_length=1000,
        help_text="Comma-separated; proposed from the mapped tables.",
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Enabled",
        help_text="New requests fan out to enabled connectors only.",
    )

    def __init__(self, *args: Any, proposal: dict[str, Any], **kwargs: Any) -> None:
        self.proposal = proposal
        super().__init__(*args, **kwargs)
        for t, table in enumerate(proposal["tables"]):
            prefix = f"t{t}"
            self.fields[f"{prefix}_include"] = forms.BooleanField(
                required=False,
                initial=table["include"],
                label=f"Map {table['table']}",
                disabled=not table["reachable"],
            )
            self.fields[f"{prefix}_category"] = forms.CharField(
                required=False,
                max_length=50,
                initial=table["category"],
                label="Category",
            )
            self.fields[f"{prefix}_rows"] = forms.ChoiceField(
                choices=[(c, ROW_LABELS[c]) for c in ROW_CHOICES],
                initial=table["rows"],
                label="Erasure",
            )
            for c, column in enumerate(table["columns"]):
                if column["role"] in (ROLE_KEY, ROLE_PARENT):
                    continue
                name = f"{prefix}_c{c}"
                self.fields[f"{name}_category"] = forms.ChoiceField(
                    choices=[(k, CATEGORY_LABELS[k]) for k in CATEGORIES],
                    initial=column["category"],
                    label=f"{column['name']}: category",
                )
                self.fields[f"{name}_role"] = forms.ChoiceField(
                    choices=[(k, ROLE_LABELS[k]) for k in EDITABLE_ROLES],
                    initial=column["role"],
                    required=False,
                    label=f"{column['name']}: role",
                )
                self.fields[f"{name}_strategy"] = forms.ChoiceField(
                    choices=[("", STRATEGY_LABELS[""])]
                    + [(k, STRATEGY_LABELS[k]) for k in FIELD_STRATEGIES],
                    initial=column["strategy"],
                    required=False,
                    label=f"{column['name']}: erasure",
                )
        self.fields.update(disclosure_fields())

    def service_error_field(self, path: str) -> str | None:
        if path in DISCLOSURE_FIELDS:
            return DISCLOSURE_FIELDS[path]
        if path.startswith("disclosure."):
            item = path.split(".")[1].split("[")[0]
            return DISCLOSURE_FIELDS.get(f"disclosure.{item}")
        if path.startswith("config"):
            return None  # shown above the map, with its path
        return super().service_error_field(path)

    def clean_data_categories(self) -> list[str]:
        text = self.cleaned_data.get("data_categories", "")
        return [part.strip() for part in text.split(",") if part.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["disclosure"] = disclosure_from(self)
        return cleaned

    def edited_proposal(self) -> dict[str, Any]:
        """The proposal with the officer's choices (after is_valid)."""
        data = self.cleaned_data
        edited = copy.deepcopy(self.proposal)
        for t, table in enumerate(edited["tables"]):
            prefix = f"t{t}"
            table["include"] = (
                bool(data.get(f"{prefix}_include")) and table["reachable"]
            )
            table["category"] = (data.get(f"{prefix}_category") or "").strip()
            table["rows"] = data.get(f"{prefix}_rows") or table["rows"]
            for c, column in enumerate(table["columns"]):
                name = f"{prefix}_c{c}"
                if f"{name}_role" not in self.fields:
                    continue
                column["category"] = data.get(f"{name}_category") or column["category"]
                column["role"] = data.get(f"{name}_role") or ""
                column["strategy"] = data.get(f"{name}_strategy") or ""
        return edited

    # -- what the template shows -------------------------------------------
    def disclosure_item(self, item: str) -> dict[str, Any]:
        return {
            "na": self[f"disclosure_{item}_na"],
            "reason": self[f"disclosure_{item}_reason"],
        }

    def tables(self) -> list[dict[str, Any]]:
        rows = []
        for t, table in enumerate(self.proposal["tables"]):
            prefix = f"t{t}"
            columns = []
            for c, column in enumerate(table["columns"]):
                name = f"{prefix}_c{c}"
                editable = f"{name}_role" in self.fields
                columns.append(
                    {
                        **column,
                        "category_label": CATEGORY_LABELS.get(column["category"], ""),
                        "fixed_role": ROLE_LABELS.get(column["role"], "")
                        if not editable
                        else "",
                        "category_field": self[f"{name}_category"]
                        if editable
                        else None,
                        "role_field": self[f"{name}_role"] if editable else None,
                        "strategy_field": self[f"{name}_strategy"]
                        if editable
                        else None,
                    }
                )
            rows.append(
                {
                    **table,
                    "include_field": self[f"{prefix}_include"],
                    "category_field": self[f"{prefix}_category"],
                    "rows_field": self[f"{prefix}_rows"],
                    "column_rows": columns,
                    "personal": sum(
                        1 for c in table["columns"] if c["category"] in COUNTED
                    ),
                }
            )
        return rows
