"""Fields the dashboard's forms share: the controller's clock, reasons and
confirmations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from dsr.clock import controller_zone

CONFIRM_LABEL = "I confirm"


def with_blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


class ControllerDateTimeField(forms.DateTimeField):
    """A date and time typed in the controller's zone (the legal clock's zone)."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
    )

    def to_python(self, value: Any) -> Any:
        with timezone.override(controller_zone()):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(controller_zone()):
            return super().prepare_value(value)


def reason_field(label: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def confirm_field(label: str = CONFIRM_LABEL) -> forms.BooleanField:
    return forms.BooleanField(
        label=label,
        required=True,
        error_messages={"required": "tick the box to confirm"},
    )
