"""Forms of a request's tasks: the work in each store."""

from __future__ import annotations

from django import forms

from privacydesk.forms import ServiceErrorsMixin


class TaskRetryForm(ServiceErrorsMixin, forms.Form):
    """Retry a failed task: nothing to fill in."""


class TaskSkipForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit log and the evidence pack.",
    )
    basis = forms.CharField(
        label="Legal basis (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "GDPR 17(3)(b) legal obligation"}),
        help_text="With a basis this store is exempted and the request can still "
        "complete; without one it is skipped and the request cannot be completed.",
    )


class TaskDoneForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=5000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TaskAttachForm(ServiceErrorsMixin, forms.Form):
    attachment = forms.FileField(
        label="Proof file",
        help_text="Optional: a screenshot, export or letter, uploaded before you "
        "mark the task done. Kept with its sha256 hash.",
    )
