"""The data points a California requester proves who they are with
(CCPA-REG §7062); the rules (how many, which may count) are
dsr.services.data_points'."""

from __future__ import annotations

from typing import Any

from django import forms

from connectors.data_points import KINDS, MAX_LENGTH
from dsr.services.data_points import DECLARATION
from portal.forms import PortalForm

_AUTOCOMPLETE = {
    "name": "name",
    "phone": "tel",
    "postal_code": "postal-code",
    "street_address": "street-address",
    "order_number": "off",
}


class DataPointsForm(PortalForm):
    """Details we hold about the requester, and for a copy the declaration."""

    # `points` alone (too few given) is about the form as a whole.
    service_fields = {f"points.{kind}": kind for kind in KINDS}

    def __init__(
        self, *args: Any, correction: bool, declaration: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if correction:
            self.fields["corrected"] = forms.ChoiceField(
                label="Which of these is what you want corrected?",
                help_text=(
                    "It cannot also show it is you, so we do not use it for this check."
                ),
                required=False,
                choices=[("", "None of them")]
                + [(kind, label.split(",")[0]) for kind, label in KINDS.items()],
            )
        for kind, label in KINDS.items():
            self.fields[kind] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_LENGTH,
                widget=forms.TextInput(
                    attrs={"autocomplete": _AUTOCOMPLETE[kind], "spellcheck": "false"}
                ),
            )
        if declaration:
            self.fields["declaration"] = forms.BooleanField(
                label=DECLARATION, required=False
            )

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "points": {kind: data.get(kind) or "" for kind in KINDS},
            "corrected": data.get("corrected") or "",
            "declaration": bool(data.get("declaration")),
        }
