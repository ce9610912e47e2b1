"""The acknowledge form of the alerts page."""

from __future__ import annotations

from django import forms

from alerts.services import NOTE_MAX
from privacydesk.forms import ServiceErrorsMixin


class AcknowledgeForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked, what you found, what was done.",
    )
