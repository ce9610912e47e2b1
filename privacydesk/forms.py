"""What both front doors' forms share: a service's error shown on its field.

A form collects fields and hands them to one service; the service's
DomainError names a field path (`identity.email`, `config.tables[2].map`),
and `ServiceErrorsMixin` puts its message next to the form field that holds
that input, or at the top of the form when none does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from privacydesk.errors import DomainError

if TYPE_CHECKING:
    from django import forms

    _FormBase = forms.Form
else:
    _FormBase = object

# Where a path's first segment ends: `config.tables[2]` -> `config`.
_PATH_ROOT_END = re.compile(r"[.\[]")


def sentence(message: str) -> str:
    """A service message as a sentence: capitalised, with a full stop."""
    text = message.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


class ServiceErrorsMixin(_FormBase):
    """Show a service's DomainError on the field its path points at.

    Mix into a `forms.Form` before it: `class F(ServiceErrorsMixin, forms.Form)`.
    """

    # A service's field path, or its leading part -> this form's field.
    service_fields: ClassVar[dict[str, str]] = {}
    # Customer-facing forms: the message as a sentence (capital, full stop).
    sentence_case: ClassVar[bool] = False
    # Put the full path before the message when it points inside the field
    # (`config.tables[2].identity: ...` on the config field).
    show_error_path: ClassVar[bool] = False

    def service_error_field(self, path: str) -> str | None:
        """The form field for a service error's path: mapped exactly, mapped
        by its longest leading part, or a field named like the path's first
        segment; None for an error about the form as a whole."""
        if path in self.service_fields:
            return self.service_fields[path]
        prefixes = [
            prefix
            for prefix in self.service_fields
            if path.startswith((prefix + ".", prefix + "["))
        ]
        if prefixes:
            return self.service_fields[max(prefixes, key=len)]
        root = _PATH_ROOT_END.split(path, maxsplit=1)[0]
        return root if root and root in self.fields else None

    def add_service_error(self, error: DomainError) -> None:
        path = error.field or ""
        field = self.service_error_field(path)
        message = sentence(error.message) if self.sentence_case else error.message
        if self.show_error_path and path and path != field:
            message = f"{path}: {message}"
        self.add_error(field, message)
