"""Domain errors raised by services; the front doors turn them into 4xx."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused an action."""

    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Messages per field path, for an input with several faults at once
        # (a batch: `requests[3].identity.email`); `field` names one.
        self.errors = errors or ({field: [message]} if field else {})


class ValidationFailed(DomainError):
    """Input broke a rule; `field` names the offending field path."""


class NotPermitted(DomainError):
    """The actor's role or scopes do not allow the action."""

    status_code = 403
    code = "permission_denied"


class IllegalTransition(DomainError):
    """The object is not in a state that allows the action."""

    status_code = 409
    code = "illegal_transition"
