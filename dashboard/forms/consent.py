"""Forms of the consent pages: each shapes input for one service or selector."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from privacydesk.forms import ServiceErrorsMixin


class PolicyPublishForm(ServiceErrorsMixin, forms.Form):
    """The fields of `policy_version_publish` (the purpose is in the URL)."""

    version = forms.CharField(
        label="Version label",
        max_length=30,
        help_text="A short label such as 2026-12. Each purpose uses a label once.",
    )
    text = forms.CharField(
        label="Wording shown to customers",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain language. Say that consent can be withdrawn at any time "
        "and that withdrawing does not affect earlier processing.",
    )
    material = forms.BooleanField(
        label="Material change: existing grants need renewal",
        required=False,
        help_text="Until a customer consents again, the check answers no.",
    )


class SubjectSearchForm(forms.Form):
    email = forms.EmailField(label="Customer's e-mail address", max_length=254)


class PurposeLinkForm(ServiceErrorsMixin, forms.Form):
    """The fields of `purpose_connector_link` (the purpose is in the URL)."""

    service_fields = {"action": "action", "connector": "connector"}
    show_error_path = True

    connector = forms.ChoiceField(
        label="Store",
        help_text="The connector whose store must hear of a withdrawal.",
    )
    action = forms.CharField(
        label="What a withdrawal does there (JSON)",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=(
            'SQL stores: {"set": {"table": "customers", "column": '
            '"ai_training_opt_out", "value": true}} or {"delete": {"table": '
            '"training_examples"}}, a table of the connector\'s map. Webhook and '
            "agent stores: any JSON object, sent with the job as its instructions."
        ),
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args: Any, connectors: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["connector"]
        assert isinstance(field, forms.ChoiceField)  # as declared above
        field.choices = [("", "Choose a store")] + [(n, n) for n in connectors]

    def clean_action(self) -> Any:
        try:
            return json.loads(self.cleaned_data["action"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON: {error.msg} (line {error.lineno}, "
                f"column {error.colno})."
            ) from None
