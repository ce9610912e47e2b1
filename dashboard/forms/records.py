"""Forms of the records-of-processing pages: each shapes input for one
records service; the rules live there."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from consent.models import Purpose
from privacydesk.forms import ServiceErrorsMixin
from records.choices import RecipientRole
from records.models import Activity, ProcessingRecord, Recipient

TEXTAREA = {"rows": 3}


def split_labels(text: str) -> list[str]:
    """Labels written one per line or comma-separated."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class ProcessingRecordForm(ServiceErrorsMixin, forms.Form):
    """The fields of `processing_record_update`."""

    controller_name = forms.CharField(
        max_length=200,
        required=False,
        label="Controller",
        help_text="Blank: the CONTROLLER_NAME setting.",
    )
    controller_address = forms.CharField(
        required=False, label="Address", widget=forms.Textarea(attrs=TEXTAREA)
    )
    controller_contact = forms.CharField(
        max_length=300, required=False, label="Contact (e-mail, phone)"
    )
    representative = forms.CharField(
        required=False,
        label="Representative in the Union (Art. 27)",
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Only for a controller established outside the Union.",
    )
    joint_controllers = forms.CharField(
        required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    dpo_name = forms.CharField(max_length=200, required=False, label="DPO name")
    dpo_contact = forms.CharField(max_length=300, required=False, label="DPO contact")
    dpo_not_designated_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Or: why no DPO is designated",
    )
    security_measures = forms.CharField(
        required=False,
        label="Security measures (Art. 30(1)(g), 32(1))",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="A general description of the technical and organisational "
        "measures: encryption, access control, backups, testing.",
    )
    subject_categories = forms.CharField(
        required=False,
        label="Categories of data subjects",
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="One per line or comma-separated; every activity concerns "
        "these unless it lists its own.",
    )

    def __init__(self, *args: Any, record: ProcessingRecord, **kwargs: Any) -> None:
        initial = {name: getattr(record, name) for name in self.base_fields}
        initial["subject_categories"] = "\n".join(record.subject_categories or [])
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["subject_categories"] = split_labels(values["subject_categories"])
        return values


class ActivityForm(ServiceErrorsMixin, forms.Form):
    """The fields of `activity_create` / `activity_update`."""

    purpose: forms.ModelChoiceField[Purpose] = forms.ModelChoiceField(
        queryset=None,  # set in __init__ from the selector
        required=False,
        label="Consent purpose it describes",
        empty_label="None: an activity of its own",
    )
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Required for an activity of its own. The wording of a store's "
        "purpose adds to that purpose.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXTAREA))
    legal_basis = forms.CharField(max_length=200, required=False)
    data_categories = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="One per line or comma-separated, e.g. contact, call_recording.",
    )
    subject_categories = forms.CharField(
        required=False,
        label="Categories of data subjects",
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Blank: the record's usual categories.",
    )
    retention = forms.CharField(
        required=False,
        label="Time limit for erasure",
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Where no store's policy says, e.g. “90 days after the call”.",
    )

    def __init__(
        self,
        *args: Any,
        purposes: QuerySet[Purpose],
        activity: Activity | None = None,
        **kwargs: Any,
    ) -> None:
        initial: dict[str, Any] = {}
        if activity is not None:
            initial = {name: getattr(activity, name) for name in self.base_fields}
            for name in ("data_categories", "subject_categories"):
                initial[name] = "\n".join(getattr(activity, name) or [])
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        field = self.fields["purpose"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = purposes

    def service_kwargs(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        for name in ("data_categories", "subject_categories"):
            values[name] = split_labels(values[name])
        return values


class RecipientForm(ServiceErrorsMixin, forms.Form):
    """The fields of `recipient_create` / `recipient_update`."""

    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=RecipientRole.choices)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="What it does with the data.",
    )
    activity: forms.ModelChoiceField[Activity] = forms.ModelChoiceField(
        queryset=None,  # set in __init__ from the selector
        required=False,
        empty_label="Every activity",
    )
    country = forms.CharField(
        max_length=100,
        required=False,
        help_text="Where it processes the data: a code (US) or a name.",
    )
    safeguards = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Outside the EEA: the transfer's safeguard (adequacy decision, "
        "Standard Contractual Clauses, BCRs). Blank shows as a gap.",
    )

    def __init__(
        self,
        *args: Any,
        activities: QuerySet[Activity],
        recipient: Recipient | None = None,
        **kwargs: Any,
    ) -> None:
        initial: dict[str, Any] = {}
        if recipient is not None:
            initial = {name: getattr(recipient, name) for name in self.base_fields}
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        field = self.fields["activity"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = activities

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
