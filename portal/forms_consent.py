"""The consent page's one form: a purpose and the choice for it."""

from __future__ import annotations

from typing import Any

from django import forms

from consent.selectors import purpose_list
from portal.forms import PortalForm


class ConsentChoiceForm(forms.Form):
    """One button press: allow or withdraw one purpose."""

    purpose = forms.ChoiceField(choices=())
    choice = forms.ChoiceField(choices=(("allow", "Allow"), ("withdraw", "Withdraw")))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        purpose = self.fields["purpose"]
        assert isinstance(purpose, forms.ChoiceField)  # as declared above
        purpose.choices = [
            (slug, slug) for slug in purpose_list().values_list("slug", flat=True)
        ]

    @property
    def granted(self) -> bool:
        return self.cleaned_data["choice"] == "allow"


def _email_field(help_text: str) -> forms.EmailField:
    return forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text=help_text,
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter a valid e-mail address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class ChoicesEmailForm(PortalForm):
    """The address whose privacy choices to open: a code goes there."""

    service_fields = {"email": "email", "identity": "email"}

    email = _email_field(
        "We send a 6-digit code to this address. It opens the choices recorded "
        "for it, so nobody else can change them."
    )


class OptOutForm(PortalForm):
    """The address an opt-out is for; no code is asked (CCPA 7026, 7027)."""

    service_fields = {"email": "email", "identity": "email"}

    email = _email_field(
        "So we know whose choice this is. We apply it at once; we do not ask "
        "you to prove who you are for this."
    )
