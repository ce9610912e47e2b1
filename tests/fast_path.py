"""What the fast-path tests of `/consent/check/` and `/redact/` share
(consent.api.fast_path): telling which path answered, and comparing the
two paths' answers.

DRF's answers carry `.data` in the test client, the fast path's do not. An
Accept header DRF must negotiate in full sends the usual call through DRF."""

from __future__ import annotations

from typing import Any

NEGOTIATED = "text/html, application/json;q=0.5"


def answered_by_drf(response: Any) -> bool:
    return hasattr(response, "data")


def assert_same_answer(usual: Any, negotiated: Any) -> None:
    """The fast path and DRF answered the same bytes and headers."""
    assert usual.content == negotiated.content
    assert dict(usual.headers) == dict(negotiated.headers)
