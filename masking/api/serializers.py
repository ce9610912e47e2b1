"""Shapes of the masking API: strict inputs; outputs hold tokens, never the
values they stand for (except /restore/'s text, for the customer's eyes)."""

from __future__ import annotations

from rest_framework import serializers

from consent.api.serializers import ConsentCheckSerializer
from masking.inputs import MAX_CONVERSATION_ID, MAX_NAME, MAX_TEXT
from masking.services import (
    VAULT_NONE,
    VAULT_REVERSIBLE,
    VAULT_TOKENS,
)
from privacydesk.apikit import IdentityField, OutputSerializer, StrictSerializer

_CONVERSATION_HELP = (
    "The conversation's id in the agent's system: tokens are numbered, and "
    "stay stable, per subject and conversation."
)


class MaskInputSerializer(StrictSerializer):
    identity = IdentityField(help_text="Whose message: at least one identifier.")
    purpose = serializers.CharField(
        max_length=50, help_text="The purpose the model uses the text for."
    )
    conversation_id = serializers.CharField(
        max_length=MAX_CONVERSATION_ID, help_text=_CONVERSATION_HELP
    )
    text = serializers.CharField(
        max_length=MAX_TEXT,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The message, at most {MAX_TEXT:,} characters.",
    )
    name = serializers.CharField(
        max_length=MAX_NAME,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The customer's name, if the agent knows it: masked as PERSON.",
    )
    reversible = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Keep the values (encrypted) so /restore/ can put them back.",
    )

    class Meta:
        ref_name = "MaskInput"


class RestoreInputSerializer(StrictSerializer):
    identity = IdentityField(help_text="The same customer the text was masked for.")
    conversation_id = serializers.CharField(
        max_length=MAX_CONVERSATION_ID, help_text=_CONVERSATION_HELP
    )
    text = serializers.CharField(
        max_length=MAX_TEXT,
        allow_blank=True,
        trim_whitespace=False,
        help_text="A model's reply holding tokens such as `<EMAIL_1>`.",
    )

    class Meta:
        ref_name = "RestoreInput"


class TokenSerializer(OutputSerializer):
    token = serializers.CharField(help_text="As it appears in the text: `<EMAIL_1>`.")
    entity = serializers.CharField(help_text="`EMAIL`, `PHONE`, `PERSON`, `CARD`, ...")

    class Meta:
        ref_name = "MaskToken"


class MaskSerializer(OutputSerializer):
    """A masked message and the consent answer, in one round trip."""

    text = serializers.CharField(help_text="The text with PII replaced by tokens.")
    allowed = serializers.BooleanField(
        help_text="False: the customer did not allow this purpose; do not send "
        "the text to a model (nothing was kept)."
    )
    reason = serializers.CharField(
        allow_null=True, help_text="Why not allowed; null when allowed."
    )
    consent = ConsentCheckSerializer()
    conversation_id = serializers.CharField()
    vault = serializers.ChoiceField(
        choices=[VAULT_NONE, VAULT_TOKENS, VAULT_REVERSIBLE],
        help_text="What was kept: `none`, `tokens` (stable tokens, no values) "
        "or `reversible` (values, encrypted, for /restore/).",
    )
    tokens = TokenSerializer(many=True, help_text="Each token once, never a value.")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Replacements per entity."
    )
    stored = serializers.IntegerField(help_text="Vault entries this call added.")

    class Meta:
        ref_name = "Masked"


class RestoredSerializer(OutputSerializer):
    text = serializers.CharField(help_text="The reply with the values put back.")
    restored = serializers.IntegerField(help_text="Tokens replaced.")
    unknown = serializers.IntegerField(
        help_text="Tokens left as they are: not in this conversation's vault "
        "(never kept, kept without values, or deleted by an erasure)."
    )

    class Meta:
        ref_name = "Restored"
