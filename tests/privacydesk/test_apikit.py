"""The API kit: strict inputs, aware datetimes, parsing and path ids."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from privacydesk.apikit import AwareDateTimeField, StrictSerializer, parse, public_uuid


class _Input(StrictSerializer):
    name = serializers.CharField()
    at = AwareDateTimeField(required=False)


def _errors(data: Any) -> dict[str, Any]:
    with pytest.raises(serializers.ValidationError) as caught:
        parse(_Input, data)
    assert isinstance(caught.value.detail, dict)
    return dict(caught.value.detail)


def test_unknown_keys_are_refused_beside_other_errors() -> None:
    errors = _errors({"nmae": "x"})

    assert set(errors) == {"name", "nmae"}
    assert errors["nmae"] == ["unknown field"]


def test_a_body_that_is_not_an_object_is_refused_under_the_empty_path() -> None:
    assert _errors([{"name": "x"}]) == {"": ["must be an object"]}


def test_a_naive_datetime_is_refused() -> None:
    errors = _errors({"name": "x", "at": "2026-01-05T10:00:00"})

    assert "time zone" in str(errors["at"][0])


def test_valid_input_is_parsed() -> None:
    data = parse(_Input, {"name": "x", "at": "2026-01-05T10:00:00Z"})

    assert data["name"] == "x"
    assert data["at"].tzinfo is not None


def test_a_path_id_that_is_not_a_uuid_is_a_404() -> None:
    assert public_uuid("7D4C6C1E-1F8B-4A57-9B1B-0C5A4A4E9B11") == (
        "7d4c6c1e-1f8b-4a57-9b1b-0c5a4a4e9b11"
    )
    with pytest.raises(NotFound):
        public_uuid("42", what="request")
