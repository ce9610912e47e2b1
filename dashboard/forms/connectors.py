"""Forms of the connector pages: a store's configuration, secrets kept
write-only."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from connectors.registry import kind_choices
from privacydesk.forms import ServiceErrorsMixin


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value back: what was typed stays secret."""

    def format_value(self, value: Any) -> None:
        return None


class JsonTextField(forms.CharField):
    """JSON typed into a textarea; errors say where the JSON breaks."""

    def __init__(self, *, blank_value: Any = None, **kwargs: Any) -> None:
        self.blank_value = blank_value
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        )
        super().__init__(strip=True, **kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if not text:
            return self.blank_value
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"not valid JSON: {error.msg} (line {error.lineno}, "
                f"column {error.colno})"
            ) from error


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class ConnectorForm(ServiceErrorsMixin, forms.Form):
    """The fields of `connector_create` / `connector_update`.

    Secrets are write-only: the textarea starts empty, is never filled back in
    (not even after an error), and a blank one keeps what is stored. A
    service's error goes on its field with its full path, e.g.
    `config.tables[2].identity: ...` on the configuration.
    """

    show_error_path = True

    name = forms.CharField(
        max_length=60,
        help_text="A short slug, e.g. helpdesk-db; shown on tasks and in evidence.",
    )
    kind = forms.ChoiceField(choices=kind_choices)
    config = JsonTextField(
        label="Configuration (JSON)",
        help_text="Checked by the kind; an error names its path, e.g. "
        "config.tables[2].identity. Put no passwords here: use secrets.",
    )
    secrets = JsonTextField(
        label="Secrets (JSON, write-only)",
        required=False,
        widget=WriteOnlyTextarea(
            attrs={
                "rows": 3,
                "class": "code",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
        help_text='E.g. {"password": "…"}. Stored encrypted and never shown again.',
    )
    data_categories = forms.CharField(
        label="Data categories",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "contact, support_ticket"}),
        help_text="Comma-separated: what this store holds about a person.",
    )
    disclosure = JsonTextField(
        label="What the subject is told (JSON)",
        required=False,
        blank_value={},
        widget=forms.Textarea(
            attrs={"rows": 8, "class": "code", "spellcheck": "false"}
        ),
        help_text="GDPR 15(1)-(2), every item required: purposes and recipients "
        "(lists), retention and source (texts), automated_decision_making and "
        'transfers; an item that does not apply is {"not_applicable": "<reason>"}.',
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Enabled",
        help_text="New requests fan out to enabled connectors only.",
    )

    def __init__(self, *args: Any, connector: Any = None, **kwargs: Any) -> None:
        self.connector = connector
        if connector is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": connector.name,
                    "kind": connector.kind,
                    "config": pretty_json(connector.config),
                    "data_categories": ", ".join(connector.data_categories or []),
                    "disclosure": pretty_json(connector.disclosure)
                    if connector.disclosure
                    else "",
                    "enabled": connector.enabled,
                },
            )
        super().__init__(*args, **kwargs)
        if connector is not None:
            self.fields["kind"].disabled = True
            self.fields[
                "kind"
            ].help_text = (
                "A connector's kind cannot change; create a new connector instead."
            )
            self.fields["secrets"].help_text = (
                "Leave blank to keep the stored secrets. A key given here replaces "
                'that secret; {"password": null} removes it.'
            )

    def clean_data_categories(self) -> list[str]:
        text = self.cleaned_data.get("data_categories", "")
        return [part.strip() for part in text.split(",") if part.strip()]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {
            "name": data["name"],
            "config": data["config"],
            "data_categories": data["data_categories"],
            "disclosure": data["disclosure"],
            "enabled": data["enabled"],
        }
        if self.connector is None:
            kwargs["kind"] = data["kind"]
            kwargs["secrets"] = data["secrets"]
        elif data["secrets"] is not None:
            kwargs["secrets"] = data["secrets"]
        return kwargs


class ConnectorEnableForm(forms.Form):
    enabled = forms.BooleanField(required=False)
