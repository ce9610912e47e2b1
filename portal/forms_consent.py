"""The consent page's one form: a purpose and the choice for it."""

from __future__ import annotations

from typing import Any

from django import forms

from consent.selectors import purpose_list


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
