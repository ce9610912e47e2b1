"""Forms of the request pages: the queue's filters, a request entered by
staff, and the actions on one request. Each shapes input for one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from dashboard.forms.common import (
    ControllerDateTimeField,
    confirm_field,
    reason_field,
    with_blank,
)
from dsr.choices import (
    DenialBasis,
    PauseReason,
    Regime,
    RequestKind,
    RequestStatus,
    VerificationMethod,
)
from dsr.clock import controller_zone
from dsr.selectors import request_assignees
from dsr.services.request_inputs import request_corrections_clean
from privacydesk.errors import ValidationFailed
from privacydesk.forms import ServiceErrorsMixin

OPEN = "open"  # the queue's default: every status still on the clock


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
        choices=with_blank(
            "Any kind", [(k.value, k.value.capitalize()) for k in RequestKind]
        ),
    )
    regime = forms.ChoiceField(
        required=False, choices=with_blank("Any regime", Regime.choices)
    )
    due_within = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=366,
        label="Due within",
        widget=forms.NumberInput(attrs={"placeholder": "days", "min": 0, "max": 366}),
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    mine = forms.BooleanField(required=False, label="Assigned to me")
    review = forms.BooleanField(required=False, label="Waiting for review")
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
        cleaned = super().clean() or {}
        system = cleaned.get("customer_system", "").strip()
        value = cleaned.get("customer_id", "").strip()
        if value and not system:
            self.add_error("customer_system", "name the system this id belongs to")
        if system and not value:
            self.add_error("customer_id", "give the customer id in that system")
        if "kind" in cleaned:
            # The service's rule, checked now so its error joins the others.
            try:
                request_corrections_clean(
                    kind=cleaned["kind"], corrections=self._corrections(cleaned)
                )
            except ValidationFailed as error:
                self.add_service_error(error)
        return cleaned

    @staticmethod
    def _corrections(data: dict[str, Any]) -> dict[str, str] | None:
        """The typed correction, as the service takes it (None when empty)."""
        text = (data.get("corrections") or "").strip()
        return {"requested_correction": text} if text else None

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
        return {
            "kind": data["kind"],
            "regime": data["regime"],
            "identity": identity,
            "details": data["details"],
            "corrections": self._corrections(data),
            "received_at": data["received_at"],
            "verified": data["identity_checked"],
        }


# --- Actions on one request ----------------------------------------------------


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
    note = forms.CharField(
        required=False,
        max_length=5000,
        label="Review note (what you checked; required for a review before erasure)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = confirm_field("I confirm: start processing this request in every store")


class ReleasePackageForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        required=False,
        max_length=5000,
        label="Review note (optional: what you checked)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = confirm_field(
        "I confirm: I have reviewed the package; release it to the requester"
    )


class RejectForm(ServiceErrorsMixin, forms.Form):
    reason = reason_field("Reasons for refusing")
    basis = forms.ChoiceField(
        label="Ground",
        required=False,
        choices=with_blank("Not stated", DenialBasis.choices),
        help_text="How CCPA metrics count the denial (not stated: other "
        "grounds); not sent to the requester.",
    )
    confirm = confirm_field("I confirm: reject this request and notify the requester")


class ExtendForm(ServiceErrorsMixin, forms.Form):
    reason = reason_field("Why more time is needed (sent to the requester)")
    confirm = confirm_field("I confirm: extend the deadline and notify the requester")


class PauseForm(ServiceErrorsMixin, forms.Form):
    reason = forms.ChoiceField(label="Waiting for", choices=PauseReason.choices)


class ResumeForm(ServiceErrorsMixin, forms.Form):
    pass


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = reason_field("Reason (optional)", required=False)
    confirm = confirm_field("I confirm: cancel this request")


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
    note = reason_field("Note (required unless completed)", required=False)
    confirm = confirm_field("I confirm: close this request with this outcome")


class AssignForm(ServiceErrorsMixin, forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=request_assignees(),
        required=False,
        empty_label="Nobody",
        label="Assigned to",
    )


class SendAgainForm(ServiceErrorsMixin, forms.Form):
    pass


class NoteForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
