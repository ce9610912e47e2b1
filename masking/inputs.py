"""The masking API's inputs, checked once for the service and the selector:
errors name the field."""

from __future__ import annotations

from typing import Any

from privacydesk.errors import ValidationFailed

MAX_TEXT = 20_000
MAX_NAME = 200
MAX_CONVERSATION_ID = 100


def conversation_id_clean(value: Any) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise ValidationFailed("give the conversation's id", field="conversation_id")
    if len(cleaned) > MAX_CONVERSATION_ID or not cleaned.isprintable():
        raise ValidationFailed(
            f"at most {MAX_CONVERSATION_ID} printable characters",
            field="conversation_id",
        )
    return cleaned


def text_clean(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed("must be a string", field="text")
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"at most {MAX_TEXT:,} characters", field="text")
    return value


def name_clean(value: Any) -> str:
    """The customer's name as the agent knows it ("" when not given)."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise ValidationFailed(
            f"a string of at most {MAX_NAME} characters", field="name"
        )
    return value.strip()
