"""The portal's forms: they check the shape of the input and hand it to a
service; the rules of what a request may contain live in dsr.services."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.choices import Regime, RequestKind
from dsr.services.agents import MAX_PERMISSION_BYTES, agent_permission_clean
from dsr.services.request_inputs import request_corrections_clean
from privacydesk.errors import ValidationFailed
from privacydesk.forms import ServiceErrorsMixin

# What each right means, in plain words: (short title, one-paragraph summary).
KIND_INFO: dict[str, tuple[str, str]] = {
    RequestKind.ACCESS: (
        "Get a copy of my data",
        "We send you a copy of the personal data we hold about you, and explain "
        "why we use it, where it came from, who we share it with and how long "
        "we keep it.",
    ),
    RequestKind.RECTIFICATION: (
        "Correct my data",
        "Tell us what is wrong or incomplete, and we fix it everywhere we keep "
        "it, including the systems of companies we shared it with.",
    ),
    RequestKind.ERASURE: (
        "Delete my data",
        "We delete your personal data, including chat and call transcripts. If "
        "the law makes us keep something, we tell you what and why.",
    ),
    RequestKind.PORTABILITY: (
        "Take my data elsewhere",
        "We give you the data you provided in machine-readable files (JSON and "
        "CSV), so you can reuse it or move it to another service.",
    ),
    RequestKind.RESTRICTION: (
        "Pause the use of my data",
        "We keep your data but stop using it, for example while we check a "
        "correction or an objection.",
    ),
    RequestKind.OBJECTION: (
        "Stop using my data",
        "We stop using your data for direct marketing at once, and for other "
        "purposes unless we have compelling legal grounds, which we explain.",
    ),
}

# "Where do you live?" decides the law, and so the deadlines, that apply.
RESIDENCE_INFO: dict[str, tuple[str, str, str]] = {
    "eu": (
        Regime.GDPR,
        "In the EU or EEA",
        "A country of the European Union, or Iceland, Liechtenstein or Norway.",
    ),
    "uk": (
        Regime.UK_GDPR,
        "In the United Kingdom",
        "England, Scotland, Wales or Northern Ireland.",
    ),
    "california": (
        Regime.CCPA,
        "In California, USA",
        "California residents' rights under the CCPA as amended by the CPRA.",
    ),
}

# Field paths in service errors -> the form field that holds that input.
_SERVICE_FIELDS = {
    "kind": "kind",
    "regime": "residence",
    "identity": "email",
    "identity.email": "email",
    "identity.phone": "phone",
    "details": "details",
    "corrections": "correction",
    "corrections.requested_correction": "correction",
    "agent": "filed_by_agent",
    "agent.name": "agent_name",
    "agent.contact": "agent_contact",
    "agent_permission": "agent_document",
}

# An authorised agent's written authority (CCPA-REG §7063(a), (b)).
AGENT_AUTHORITY_CHOICES = [
    (
        "signed_permission",
        "The consumer's signed permission for me to act for them",
    ),
    ("power_of_attorney", "A power of attorney (Cal. Probate Code §§4000-4465)"),
]


def _options(form: forms.Form, name: str, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Radio options with their titles and descriptions, for hand-built markup."""
    options = []
    for radio in form[name]:
        value = str(radio.data["value"])
        options.append(
            {
                "id": radio.id_for_label,
                "name": radio.data["name"],
                "value": value,
                "checked": radio.data["selected"],
                "title": info[value][-2],
                "description": info[value][-1],
            }
        )
    return options


class PortalForm(ServiceErrorsMixin, forms.Form):
    """A customer's form: a service's error reads as a sentence."""

    sentence_case = True


def _corrections(data: dict[str, Any]) -> dict[str, str] | None:
    """The typed correction, as the service takes it (None when left empty)."""
    text = (data.get("correction") or "").strip()
    return {"requested_correction": text} if text else None


class RequestForm(PortalForm):
    """A new request, as a member of the public files it."""

    service_fields = _SERVICE_FIELDS

    kind = forms.ChoiceField(
        label="What would you like us to do?",
        choices=[(kind, KIND_INFO[kind][0]) for kind in RequestKind.values],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what you would like us to do.",
            "invalid_choice": "Choose one of the options listed.",
        },
    )
    residence = forms.ChoiceField(
        label="Where do you live?",
        help_text="This tells us which law applies to your request, and its deadlines.",
        choices=[(key, info[1]) for key, info in RESIDENCE_INFO.items()],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose where you live.",
            "invalid_choice": "Choose one of the options listed.",
        },
    )
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text=(
            "We send a code to this address to check it is you, and write to you "
            "there about your request."
        ),
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter a valid e-mail address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        required=False,
        max_length=30,
        help_text="Helps us find data linked to your phone, such as call recordings.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    correction = forms.CharField(
        label="What is wrong, and what should it say?",
        required=False,
        max_length=2000,
        help_text=(
            "Only for corrections. For example: “My surname is spelt Lovelace, "
            "not Lovelase.”"
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    filed_by_agent = forms.BooleanField(
        label="I am an authorised agent acting for someone else",
        required=False,
        help_text=(
            "Only for California residents (CCPA). You need their signed "
            "permission or a power of attorney; we also ask them to confirm "
            "directly."
        ),
    )
    agent_name = forms.CharField(
        label="The agent's name (yours, or your business's)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agent_contact = forms.EmailField(
        label="The agent's e-mail address (yours)",
        required=False,
        max_length=254,
        help_text="We write to you here about the request; never to send the code.",
        error_messages={
            "invalid": "Enter a valid e-mail address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"spellcheck": "false"}),
    )
    agent_authority = forms.ChoiceField(
        label="Your written authority",
        required=False,
        choices=AGENT_AUTHORITY_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the options listed."},
    )
    agent_document = forms.FileField(
        label="Upload the signed document",
        required=False,
        help_text=(
            f"A PDF, PNG or JPEG, at most {MAX_PERMISSION_BYTES // (1024 * 1024)} "
            "MB. We keep it only until the request is decided, then delete it "
            "and keep its fingerprint as proof."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/png,image/jpeg"}
        ),
    )
    details = forms.CharField(
        label="Anything else we should know? (optional)",
        required=False,
        max_length=10000,
        help_text="For example the account, product or conversation this is about.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    @property
    def kind_options(self) -> list[dict[str, Any]]:
        return _options(self, "kind", KIND_INFO)

    @property
    def residence_options(self) -> list[dict[str, Any]]:
        return _options(self, "residence", RESIDENCE_INFO)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "kind" in cleaned:
            # The service's rule, checked now so its error joins the others.
            try:
                request_corrections_clean(
                    kind=cleaned["kind"], corrections=_corrections(cleaned)
                )
            except ValidationFailed as error:
                self.add_service_error(error)
        if cleaned.get("filed_by_agent"):
            self._clean_agent(cleaned)
        return cleaned

    def _clean_agent(self, cleaned: dict[str, Any]) -> None:
        """An agent's part: CCPA only, and complete (the service checks the
        names and addresses again; the file is checked here, before any
        write)."""
        residence = cleaned.get("residence")
        if residence and RESIDENCE_INFO[residence][0] != Regime.CCPA:
            self.add_error(
                "filed_by_agent",
                "An authorised agent can act here only for a California "
                "resident. Choose “In California, USA”, or untick this box.",
            )
        if not (cleaned.get("agent_name") or "").strip() and "agent_name" not in (
            self.errors
        ):
            self.add_error("agent_name", "Enter your name, or your business's name.")
        if not cleaned.get("agent_contact") and "agent_contact" not in self.errors:
            self.add_error("agent_contact", "Enter your e-mail address.")
        if not cleaned.get("agent_authority") and "agent_authority" not in self.errors:
            self.add_error("agent_authority", "Choose the written authority you hold.")
        document = cleaned.get("agent_document")
        if not document:
            if "agent_document" not in self.errors:
                self.add_error(
                    "agent_document",
                    "Upload the signed permission or power of attorney.",
                )
            return
        try:
            agent_permission_clean(document)
        except ValidationFailed as error:
            self.add_service_error(error)

    @property
    def agent_authority_options(self) -> list[dict[str, Any]]:
        info = {
            "signed_permission": (
                "",
                AGENT_AUTHORITY_CHOICES[0][1],
                "Signed by the consumer and naming you as their agent.",
            ),
            "power_of_attorney": (
                "",
                AGENT_AUTHORITY_CHOICES[1][1],
                "We still ask the consumer to confirm the request directly.",
            ),
        }
        return _options(self, "agent_authority", info)

    @property
    def by_agent(self) -> bool:
        return bool(self.is_bound and self.cleaned_data.get("filed_by_agent"))

    def agent_arguments(self) -> dict[str, Any]:
        """The agent and the document, for request_create_by_agent."""
        data = self.cleaned_data
        return {
            "agent": {
                "name": data["agent_name"].strip(),
                "contact": data["agent_contact"],
                "power_of_attorney": data["agent_authority"] == "power_of_attorney",
            },
            "uploaded_file": data["agent_document"],
        }

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of dsr.services.requests.request_create."""
        data = self.cleaned_data
        identity = {"email": data["email"]}
        if data["phone"].strip():
            identity["phone"] = data["phone"].strip()
        return {
            "kind": data["kind"],
            "regime": RESIDENCE_INFO[data["residence"]][0],
            "identity": identity,
            "details": data["details"],
            "corrections": _corrections(data),
        }


class CodeForm(PortalForm):
    """The 6-digit code from the e-mail, or a wish for a new one."""

    service_fields = {"code": "code", "link": "code"}

    code = forms.CharField(
        label="Your 6-digit code",
        required=False,  # not needed to ask for a new code; checked in clean()
        max_length=12,
        help_text="It is in the e-mail we just sent you. It works for a short time.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "class": "code-input",
                "spellcheck": "false",
            }
        ),
    )
    action = forms.ChoiceField(
        choices=[("verify", "Verify"), ("resend", "Send a new code")], required=False
    )

    # The actions that check the code (the others ask for a new one).
    code_actions: tuple[str, ...] = ("verify",)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["action"] = cleaned.get("action") or "verify"
        if (
            cleaned["action"] in self.code_actions
            and not (cleaned.get("code") or "").strip()
        ):
            self.add_error("code", "Enter the 6-digit code from the e-mail.")
        return cleaned


class PackageCodeForm(CodeForm):
    """The download code: it opens the downloads page (the ZIP and the
    letter). "letter" is what the page's older second button sent."""

    action = forms.ChoiceField(
        choices=[
            ("verify", "Open my downloads"),
            ("letter", "Open my downloads"),
            ("resend", "Send a new code"),
        ],
        required=False,
    )
    code_actions = ("verify", "letter")


class CancelForm(forms.Form):
    """Cancelling needs a ticked box, so one stray click cannot do it."""

    confirm = forms.BooleanField(
        label="Yes, cancel my request",
        error_messages={"required": "Tick the box to confirm you want to cancel."},
    )
