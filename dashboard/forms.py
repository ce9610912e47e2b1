"""Forms of the staff dashboard: they shape input for one service each.

The rules themselves live in the services; a form only collects fields and
puts a service's `ValidationFailed` next to the field it names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.utils import timezone

from accounts.choices import Scope
from connectors.choices import ConnectorKindChoice
from dsr.choices import (
    PauseReason,
    Regime,
    RequestKind,
    RequestStatus,
    VerificationMethod,
)
from dsr.clock import controller_zone
from privacydesk.errors import DomainError

OPEN = "open"  # the queue's default: every status still on the clock

CONFIRM_LABEL = "I confirm"


def _with_blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


class ServiceErrorsMixin:
    """Show a service's ValidationFailed on the field its path points at."""

    # A service's field path (or its first segment) -> this form's field.
    service_fields: dict[str, str] = {}

    def add_service_error(self, error: DomainError) -> None:
        path = error.field or ""
        target = self.service_fields.get(path)
        if target is None:
            for prefix, name in self.service_fields.items():
                if path.startswith(prefix + "."):
                    target = name
                    break
        if target is None and path in self.fields:  # type: ignore[attr-defined]
            target = path
        self.add_error(target, error.message)  # type: ignore[attr-defined]


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


# --- Queue -------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            (OPEN, "Open"),
            ("", "Any status"),
            *RequestStatus.choices,
        ],
    )
    kind = forms.ChoiceField(
        required=False,
        choices=_with_blank(
            "Any kind", [(k.value, k.value.capitalize()) for k in RequestKind]
        ),
    )
    regime = forms.ChoiceField(
        required=False, choices=_with_blank("Any regime", Regime.choices)
    )
    due_within = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=366,
        label="Due within",
        widget=forms.NumberInput(attrs={"placeholder": "days", "min": 0, "max": 366}),
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    q = forms.CharField(
        required=False,
        max_length=40,
        label="Reference",
        widget=forms.TextInput(
            attrs={"placeholder": "DSR-2026-000123", "type": "search"}
        ),
    )


# --- New request -------------------------------------------------------------


class RequestNewForm(ServiceErrorsMixin, forms.Form):
    """A request that reached us by post, e-mail or phone, entered by staff."""

    service_fields = {
        "identity.email": "email",
        "identity.phone": "phone",
        "identity.customer_ids": "customer_id",
        "identity": "email",
        "corrections": "corrections",
        "received_at": "received_at",
    }

    kind = forms.ChoiceField(choices=RequestKind.choices)
    regime = forms.ChoiceField(choices=Regime.choices, initial=Regime.GDPR)
    email = forms.CharField(
        required=False,
        max_length=254,
        label="E-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    customer_system = forms.CharField(
        required=False,
        max_length=50,
        label="Customer id: system",
        widget=forms.TextInput(attrs={"placeholder": "crm"}),
    )
    customer_id = forms.CharField(
        required=False,
        max_length=200,
        label="Customer id: value",
        widget=forms.TextInput(attrs={"placeholder": "C-1001", "autocomplete": "off"}),
    )
    details = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the person asked for, in their words where possible.",
    )
    corrections = forms.CharField(
        required=False,
        max_length=2000,
        label="Requested correction",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Rectification only: which data is wrong and what it should say.",
    )
    received_at = ControllerDateTimeField(
        label="Received at",
        help_text="When the request first reached any of our channels; the legal "
        "clock starts then.",
    )
    identity_checked = forms.BooleanField(
        required=False,
        label="Identity already checked",
        help_text="Tick only if you have confirmed who the requester is.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.now
        self.fields["received_at"].help_text += f" Time zone: {controller_zone().key}."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        system = cleaned.get("customer_system", "").strip()
        value = cleaned.get("customer_id", "").strip()
        if value and not system:
            self.add_error("customer_system", "name the system this id belongs to")
        if system and not value:
            self.add_error("customer_id", "give the customer id in that system")
        if (
            cleaned.get("kind") == RequestKind.RECTIFICATION
            and not cleaned.get("corrections", "").strip()
        ):
            self.add_error("corrections", "say which data should be corrected, and how")
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of `request_create`, from the cleaned fields."""
        data = self.cleaned_data
        identity: dict[str, Any] = {}
        if data["email"].strip():
            identity["email"] = data["email"].strip()
        if data["phone"].strip():
            identity["phone"] = data["phone"].strip()
        if data["customer_id"].strip():
            identity["customer_ids"] = {
                data["customer_system"].strip(): data["customer_id"].strip()
            }
        correction = data["corrections"].strip()
        return {
            "kind": data["kind"],
            "regime": data["regime"],
            "identity": identity,
            "details": data["details"],
            "corrections": {"requested_correction": correction} if correction else None,
            "received_at": data["received_at"],
            "verified": data["identity_checked"],
        }


# --- Actions on one request ----------------------------------------------------


def _reason_field(label: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _confirm_field(label: str = CONFIRM_LABEL) -> forms.BooleanField:
    return forms.BooleanField(
        label=label,
        required=True,
        error_messages={"required": "tick the box to confirm"},
    )


class VerifyForm(ServiceErrorsMixin, forms.Form):
    method = forms.ChoiceField(
        label="How was the identity checked?",
        choices=[
            (
                VerificationMethod.STAFF_CHECKED.value,
                VerificationMethod.STAFF_CHECKED.label,
            )
        ],
        initial=VerificationMethod.STAFF_CHECKED,
    )


class ApproveForm(ServiceErrorsMixin, forms.Form):
    confirm = _confirm_field("I confirm: start processing this request in every store")


class RejectForm(ServiceErrorsMixin, forms.Form):
    reason = _reason_field("Reasons for refusing")
    confirm = _confirm_field("I confirm: reject this request and notify the requester")


class ExtendForm(ServiceErrorsMixin, forms.Form):
    reason = _reason_field("Why more time is needed (sent to the requester)")
    confirm = _confirm_field("I confirm: extend the deadline and notify the requester")


class PauseForm(ServiceErrorsMixin, forms.Form):
    reason = forms.ChoiceField(label="Waiting for", choices=PauseReason.choices)


class ResumeForm(ServiceErrorsMixin, forms.Form):
    pass


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = _reason_field("Reason (optional)", required=False)
    confirm = _confirm_field("I confirm: cancel this request")


CLOSE_OUTCOMES = [
    (s.value, s.label)
    for s in (
        RequestStatus.COMPLETED,
        RequestStatus.PARTIALLY_COMPLETED,
        RequestStatus.FAILED,
    )
]


class CloseForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(choices=CLOSE_OUTCOMES)
    note = _reason_field("Note (required unless completed)", required=False)
    confirm = _confirm_field("I confirm: close this request with this outcome")


class NoteForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- API clients -------------------------------------------------------------------


class ApiClientCreateForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Which system uses this token, e.g. “Helpdesk integration”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant only what the integration needs.",
    )


class RevokeForm(forms.Form):
    confirm = _confirm_field("I confirm: revoke this token")


# --- Tasks (the work in each store) ---------------------------------------------


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


# --- Connectors -------------------------------------------------------------------


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


class ConnectorForm(forms.Form):
    """The fields of `connector_create` / `connector_update`.

    Secrets are write-only: the textarea starts empty, is never filled back in
    (not even after an error), and a blank one keeps what is stored.
    """

    name = forms.CharField(
        max_length=60,
        help_text="A short slug, e.g. helpdesk-db; shown on tasks and in evidence.",
    )
    kind = forms.ChoiceField(choices=ConnectorKindChoice.choices)
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

    def add_service_error(self, error: DomainError) -> None:
        """Put the error on its field, keeping the full path in the message."""
        path = error.field or ""
        root = re.split(r"[.\[]", path, maxsplit=1)[0]
        message = f"{path}: {error.message}" if path and path != root else error.message
        self.add_error(root if root in self.fields else None, message)


class ConnectorEnableForm(forms.Form):
    enabled = forms.BooleanField(required=False)
