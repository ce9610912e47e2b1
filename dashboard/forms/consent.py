"""Forms of the consent pages: each shapes input for one service or selector."""

from __future__ import annotations

from django import forms

from privacydesk.forms import ServiceErrorsMixin


class PolicyPublishForm(ServiceErrorsMixin, forms.Form):
    """The fields of `policy_version_publish` (the purpose is in the URL)."""

    version = forms.CharField(
        label="Version label",
        max_length=30,
        help_text="A short label such as 2026-12. Each purpose uses a label once.",
    )
    text = forms.CharField(
        label="Wording shown to customers",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain language. Say that consent can be withdrawn at any time "
        "and that withdrawing does not affect earlier processing.",
    )
    material = forms.BooleanField(
        label="Material change: existing grants need renewal",
        required=False,
        help_text="Until a customer consents again, the check answers no.",
    )


class SubjectSearchForm(forms.Form):
    email = forms.EmailField(label="Customer's e-mail address", max_length=254)
