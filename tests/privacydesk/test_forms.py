"""The one form-error mixin both front doors use."""

from __future__ import annotations

from django import forms

from privacydesk.errors import ValidationFailed
from privacydesk.forms import ServiceErrorsMixin, sentence


class _Form(ServiceErrorsMixin, forms.Form):
    service_fields = {"identity": "email", "identity.phone": "phone"}

    email = forms.CharField(required=False)
    phone = forms.CharField(required=False)
    config = forms.CharField(required=False)


class _CustomerForm(_Form):
    sentence_case = True


class _PathForm(_Form):
    show_error_path = True


def _errors(form_class: type[_Form], path: str | None) -> dict[str, list[str]]:
    form = form_class(data={})
    assert form.is_valid()
    form.add_service_error(ValidationFailed("not right", field=path))
    return {name: list(messages) for name, messages in form.errors.items()}


def test_a_path_goes_to_the_field_mapped_exactly_or_by_its_longest_prefix() -> None:
    assert _errors(_Form, "identity.phone") == {"phone": ["not right"]}
    assert _errors(_Form, "identity.customer_ids.crm") == {"email": ["not right"]}
    assert _errors(_Form, "identity") == {"email": ["not right"]}


def test_an_unmapped_path_goes_to_the_field_named_like_its_root() -> None:
    assert _errors(_Form, "config.tables[2].identity") == {"config": ["not right"]}
    assert _errors(_Form, "config[0]") == {"config": ["not right"]}


def test_a_path_no_field_holds_is_an_error_of_the_whole_form() -> None:
    assert _errors(_Form, "received_at") == {"__all__": ["not right"]}
    assert _errors(_Form, None) == {"__all__": ["not right"]}


def test_customer_forms_show_a_sentence_and_others_the_full_path() -> None:
    assert _errors(_CustomerForm, "identity") == {"email": ["Not right."]}
    assert _errors(_PathForm, "config.tables[2]") == {
        "config": ["config.tables[2]: not right"]
    }
    assert _errors(_PathForm, "config") == {"config": ["not right"]}


def test_sentence_keeps_a_closing_mark() -> None:
    assert sentence(" that code is not right (4 tries left)") == (
        "That code is not right (4 tries left)"
    )
    assert sentence("done") == "Done."
