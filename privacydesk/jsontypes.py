"""JSON bodies hold the types the schema documents.

DRF's fields were made for HTML forms, where every value is text, so they
coerce: `"verified": 0` becomes False, `"name": 5` becomes "5", `"days":
"30"` becomes 30. An API client that sends the wrong type has a bug, and
the schema promises a 400 for it; `json_type_errors` finds those values
before the fields coerce them. Query strings are text by nature and are not
checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

_TEXT_FIELDS = (
    serializers.CharField,  # also Email, Regex, Slug, URL
    serializers.UUIDField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
    serializers.DurationField,
)


def _expected(field: serializers.Field) -> tuple[tuple[type, ...], str] | None:
    """The JSON types a field accepts, and their name; None: any."""
    if isinstance(field, serializers.BooleanField):
        return (bool,), "true or false"
    if isinstance(field, serializers.IntegerField):
        return (int,), "a whole number"
    if isinstance(field, serializers.FloatField):
        return (int, float), "a number"
    if isinstance(field, serializers.MultipleChoiceField | serializers.ListField):
        return (list,), "a list"
    if isinstance(field, serializers.ListSerializer):
        return (list,), "a list"
    if isinstance(field, serializers.ChoiceField):
        if all(isinstance(choice, str) for choice in field.choices):
            return (str,), "a text"
        return None
    if isinstance(field, _TEXT_FIELDS):
        return (str,), "a text"
    if isinstance(field, serializers.DictField | serializers.Serializer):
        return (dict,), "an object"
    return None  # JSONField and custom fields check their own input


def json_type_errors(field: serializers.Field, value: Any, path: str) -> dict[str, str]:
    """Messages per path for values of `field` that are not of its JSON type,
    looking inside lists and objects of typed children."""
    if value is None:
        return {}  # null is the field's own business (allow_null)
    expected = _expected(field)
    if expected is None:
        return {}
    types, name = expected
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        return {path: f"must be {name}"}
    errors: dict[str, str] = {}
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for index, item in enumerate(value):
            errors.update(json_type_errors(field.child, item, f"{path}[{index}]"))
    elif isinstance(field, serializers.DictField) and isinstance(value, Mapping):
        for key, item in value.items():
            errors.update(json_type_errors(field.child, item, f"{path}.{key}"))
    return errors
