"""The audit log's filters: who, what, which request, when."""

from __future__ import annotations

from typing import Any

from django import forms


class AuditFilterForm(forms.Form):
    """Choices for who and what come from the log itself (`actor_choices`,
    `action_choices`), so a filter never offers what cannot match."""

    actor = forms.ChoiceField(required=False, label="Actor")
    action = forms.ChoiceField(required=False, label="Action")
    request = forms.CharField(
        required=False,
        max_length=40,
        label="Request",
        widget=forms.TextInput(
            attrs={"placeholder": "DSR-2026-000123", "type": "search"}
        ),
    )
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Both days included, in the controller's time zone.",
    )

    def __init__(
        self,
        *args: Any,
        actor_choices: list[tuple[str, str]],
        action_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        actor_field = self.fields["actor"]
        action_field = self.fields["action"]
        assert isinstance(actor_field, forms.ChoiceField)
        assert isinstance(action_field, forms.ChoiceField)
        actor_field.choices = [("", "Anyone"), *actor_choices]
        action_field.choices = [("", "Any action"), *action_choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "must be on or after the From date")
        return cleaned
