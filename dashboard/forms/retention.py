"""Forms of the retention pages: each shapes input for one service.

The rules live in retention.services; a form collects the fields and puts a
service's ValidationFailed next to the field its path names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from connectors.models import Connector
from dashboard.forms.common import ControllerDateTimeField
from dsr.choices import HoldScope
from privacydesk.forms import ServiceErrorsMixin
from retention.choices import PolicyAction
from retention.models import RetentionPolicy
from retention.services.policy_rules import CRON_FIELDS, DEFAULT_SCHEDULE

CRON_LABELS = {
    "minute": "Minute",
    "hour": "Hour",
    "day_of_month": "Day of month",
    "month_of_year": "Month",
    "day_of_week": "Day of week",
}


def _connector_field(form: forms.Form) -> forms.ModelChoiceField[Connector]:
    """The form's `connector` field, as declared (its choices come from a selector)."""
    field = form.fields["connector"]
    assert isinstance(field, forms.ModelChoiceField)
    return field


class PolicyForm(ServiceErrorsMixin, forms.Form):
    """The fields of `retention_policy_create` / `retention_policy_update`;
    the built-in policy shows only what may change on it."""

    service_fields = {
        "schedule": "minute",
        "fields": "columns",
        "connector": "connector",
    }

    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    connector: forms.ModelChoiceField[Connector] = forms.ModelChoiceField(
        queryset=None,  # set in __init__ from the selector
        help_text="Only stores whose kind can purge by age (SQL databases).",
    )
    table = forms.CharField(max_length=63, help_text="A table of the connector's map.")
    age_column = forms.CharField(
        max_length=63,
        label="Age column",
        help_text="The timestamp that ages a row, e.g. created_at.",
    )
    max_age_days = forms.IntegerField(
        min_value=1, label="Maximum age (days)", help_text="Rows older than this go."
    )
    action = forms.ChoiceField(choices=PolicyAction.choices)
    # Not `fields`: a form field by that name would shadow Form.fields.
    columns = forms.CharField(
        required=False,
        label="Fields",
        widget=forms.TextInput(attrs={"placeholder": "transcript, customer_email"}),
        help_text="Comma-separated columns to anonymize or redact (none to delete).",
    )
    category = forms.CharField(
        max_length=50, required=False, help_text="Blank: the map's category."
    )
    apply_to_children = forms.BooleanField(
        required=False,
        initial=True,
        label="Apply to child rows",
        help_text="Children always follow deleted rows; this also anonymizes or "
        "redacts their configured columns.",
    )
    minute = forms.CharField(max_length=64, initial="0")
    hour = forms.CharField(max_length=64, initial="3")
    day_of_month = forms.CharField(max_length=64, initial="*", label="Day of month")
    month_of_year = forms.CharField(max_length=64, initial="*", label="Month")
    day_of_week = forms.CharField(max_length=64, initial="*", label="Day of week")
    batch_size = forms.IntegerField(
        initial=5000, help_text="Rows per batch; each batch is one short transaction."
    )
    enabled = forms.BooleanField(
        required=False, initial=True, help_text="Run on the schedule."
    )
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Why this change",
        help_text="Kept with the version in the audit log.",
    )

    def __init__(
        self,
        *args: Any,
        connectors: QuerySet[Connector],
        policy: RetentionPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        self.policy = policy
        if policy is not None:
            initial = {
                name: getattr(policy, name)
                for name in (
                    "name",
                    "description",
                    "table",
                    "age_column",
                    "max_age_days",
                    "action",
                    "category",
                    "apply_to_children",
                    "batch_size",
                    "enabled",
                )
            }
            initial["connector"] = policy.connector_id
            initial["columns"] = ", ".join(policy.fields)
            initial.update(
                dict(zip(CRON_FIELDS, policy.schedule.split(), strict=False))
            )
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        _connector_field(self).queryset = connectors
        if policy is not None and policy.builtin:
            for name in list(self.fields):
                if name not in (
                    "description",
                    "batch_size",
                    "enabled",
                    "reason",
                    *CRON_FIELDS,
                ):
                    del self.fields[name]

    def schedule_fields(self) -> list[Any]:
        return [self[name] for name in CRON_FIELDS]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        schedule = " ".join(
            (data.pop(name, "") or "").strip() or "*" for name in CRON_FIELDS
        )
        data["schedule"] = schedule or DEFAULT_SCHEDULE
        if "columns" in data:
            data["fields"] = [
                part.strip() for part in data.pop("columns").split(",") if part.strip()
            ]
        return data


class HoldForm(ServiceErrorsMixin, forms.Form):
    """The fields of `legal_hold_place`."""

    service_fields = {
        "subject_identity": "subject_email",
        "subject": "request_reference",
    }

    scope = forms.ChoiceField(
        choices=HoldScope.choices, widget=forms.RadioSelect, initial="subject"
    )
    request_reference = forms.CharField(
        required=False,
        max_length=30,
        label="Request reference",
        help_text="scope = subject: the subject of this request, e.g. DSR-2026-000123…",
    )
    subject_email = forms.EmailField(
        required=False,
        label="…or the person's e-mail",
        help_text="Used only to find or record the subject; never shown again.",
    )
    connector: forms.ModelChoiceField[Connector] = forms.ModelChoiceField(
        queryset=None, required=False, help_text="scope = connector or table."
    )
    table = forms.CharField(max_length=63, required=False, help_text="scope = table.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the data must be kept (a few words at least).",
    )
    legal_basis = forms.CharField(
        max_length=200,
        label="Legal basis",
        widget=forms.TextInput(
            attrs={"placeholder": "GDPR 17(3)(e): establishment of legal claims"}
        ),
    )
    ends_at = ControllerDateTimeField(
        required=False, label="Ends", help_text="Blank: until released."
    )

    def __init__(
        self, *args: Any, connectors: QuerySet[Connector], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _connector_field(self).queryset = connectors


class ReleaseForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class RunForm(forms.Form):
    dry_run = forms.BooleanField(required=False)
    # A real run: the dry run whose counts the officer confirms, and the tick.
    confirm_dry_run = forms.UUIDField(required=False)
    confirm = forms.BooleanField(required=False)
