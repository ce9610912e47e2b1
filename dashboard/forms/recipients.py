"""Forms of a request's recipient notifications (GDPR Art. 19)."""

from __future__ import annotations

from django import forms

from privacydesk.forms import ServiceErrorsMixin


class RecipientDoneForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label="How they were told (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. the letter's date or the ticket number at the recipient.",
    )


class RecipientImpossibleForm(ServiceErrorsMixin, forms.Form):
    justification = forms.CharField(
        label="Why telling them is impossible or disproportionate",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required (GDPR Art. 19, CCPA-REG §7022(b)); shown in the "
        "evidence pack.",
    )
