"""The consent page's one form: a purpose and the choice for it."""

from __future__ import annotations

from django import forms

from consent.selectors import purpose_list


class ConsentChoiceForm(forms.Form):
    """One button press: allow or withdraw one purpose."""

    purpose = forms.ChoiceField(choices=())
    choice = forms.ChoiceField(choices=(("allow", "Allow"), ("withdraw", "Withdraw")))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [
            (slug, slug) for slug in purpose_list().values_list("slug", flat=True)
        ]

    @property
    def granted(self) -> bool:
        return self.cleaned_data["choice"] == "allow"
