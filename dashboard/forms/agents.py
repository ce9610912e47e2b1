"""The form an officer records an agent's written authority with."""

from __future__ import annotations

from django import forms

from dsr.services.agents import MAX_PERMISSION_BYTES
from privacydesk.forms import ServiceErrorsMixin


class AgentPermissionForm(ServiceErrorsMixin, forms.Form):
    """The signed permission the agent sent (by e-mail, by post, scanned)."""

    service_fields = {"agent_permission": "document"}

    document = forms.FileField(
        label="Signed permission",
        help_text=(
            "A PDF, PNG or JPEG, at most "
            f"{MAX_PERMISSION_BYTES // (1024 * 1024)} MB. Read it first: it must "
            "be signed by the consumer and name this agent. It is deleted once "
            "the request is decided; its SHA-256 stays in the evidence pack."
        ),
        error_messages={"required": "Choose the file of the signed permission."},
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/png,image/jpeg"}
        ),
    )
