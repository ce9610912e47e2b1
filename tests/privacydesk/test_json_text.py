"""privacydesk.json_text writes exactly what json.dumps writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacydesk.json_text import encoder

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("sort_keys", [True, False])
@given(value=_values)
def test_the_text_is_json_dumps(sort_keys: bool, value: Any) -> None:
    assert encoder(sort_keys=sort_keys)(value) == json.dumps(
        value, ensure_ascii=False, sort_keys=sort_keys
    )


def test_what_json_cannot_carry_goes_through_default() -> None:
    value = {"at": datetime(2026, 1, 2, tzinfo=UTC), "amount": Decimal("1.10")}
    assert encoder(default=str)(value) == json.dumps(
        value, ensure_ascii=False, default=str
    )
    with pytest.raises(TypeError):
        encoder()(value)
