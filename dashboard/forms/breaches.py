"""Forms of the breach register pages: each shapes input for one service.

The rules (the 72 hours, the reasons Art. 33(5) and 34(3) ask for) live in
breaches.services; a form collects the fields and shows a service's
ValidationFailed next to the field it names.
"""

from __future__ import annotations

from django import forms

from breaches.choices import AuthorityDecision, RiskLevel, SubjectsDecision
from dashboard.forms.common import ControllerDateTimeField, reason_field
from privacydesk.forms import ServiceErrorsMixin


def _area(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class BreachForm(ServiceErrorsMixin, forms.Form):
    """What happened, and what is known of it (Art. 33(3))."""

    title = forms.CharField(
        max_length=200, help_text="A short name staff will recognise."
    )
    aware_at = ControllerDateTimeField(
        label="Became aware at",
        help_text="The 72-hour clock runs from here, in real hours (weekends count).",
    )
    occurred_at = ControllerDateTimeField(
        label="Occurred at", required=False, help_text="If known."
    )
    description = forms.CharField(
        label="What happened (33(3)(a) nature)", widget=_area(4), max_length=20000
    )
    data_categories = forms.CharField(
        label="Categories of personal data",
        required=False,
        widget=_area(2),
        max_length=20000,
        help_text="e.g. names, e-mail addresses, chat transcripts.",
    )
    subject_categories = forms.CharField(
        label="Categories of data subjects",
        required=False,
        widget=_area(2),
        max_length=20000,
        help_text="e.g. customers who used the chat widget.",
    )
    approx_subjects = forms.IntegerField(
        label="Approximate number of subjects", required=False, min_value=0
    )
    approx_records = forms.IntegerField(
        label="Approximate number of records", required=False, min_value=0
    )
    contact_point = forms.CharField(
        label="DPO or contact point (33(3)(b))", required=False, max_length=300
    )
    consequences = forms.CharField(
        label="Likely consequences (33(3)(c))",
        required=False,
        widget=_area(),
        max_length=20000,
    )
    measures = forms.CharField(
        label="Measures taken or proposed (33(3)(d))",
        required=False,
        widget=_area(),
        max_length=20000,
    )
    risk = forms.ChoiceField(
        label="Risk to people's rights and freedoms", choices=RiskLevel.choices
    )
    risk_reasons = forms.CharField(
        label="Why this assessment", required=False, widget=_area(2), max_length=20000
    )


class DecisionForm(ServiceErrorsMixin, forms.Form):
    """Whether to notify the authority and tell the subjects, and why."""

    authority_decision = forms.ChoiceField(
        label="Supervisory authority (Art. 33)", choices=AuthorityDecision.choices
    )
    authority_decision_reasons = forms.CharField(
        label="Reasons",
        required=False,
        widget=_area(),
        max_length=20000,
        help_text="Required when not notifying: every breach is documented (33(5)).",
    )
    subjects_decision = forms.ChoiceField(
        label="Data subjects (Art. 34)", choices=SubjectsDecision.choices
    )
    subjects_decision_reasons = forms.CharField(
        label="Reasons",
        required=False,
        widget=_area(),
        max_length=20000,
        help_text="Required for an exception of Art. 34(3) or when not required.",
    )


class NotifyAuthorityForm(ServiceErrorsMixin, forms.Form):
    notified_at = ControllerDateTimeField(label="Notified at")
    reference = forms.CharField(label="The authority's reference", max_length=200)
    late_reason = reason_field("Reasons for the delay", required=False)
    late_reason.help_text = "Required when notified more than 72 hours after awareness."


class NoticesForm(ServiceErrorsMixin, forms.Form):
    """The subjects to tell, as a pasted list of addresses."""

    addresses = forms.CharField(
        label="E-mail addresses",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        help_text=(
            "One per line (or separated by commas). Each gets one notice; an "
            "address already told is skipped."
        ),
    )


class CloseForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label="Closing note", required=False, widget=_area(2))
