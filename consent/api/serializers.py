"""Shapes of the consent API: strict inputs, outputs without personal data.

Types are checked here; the rules (a valid identity, a known purpose, a
version of that purpose, clean evidence) live in the services, whose errors
name the field path. In a batch every path starts with `events[i].`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consent.choices import ConsentAction, ConsentChannel, ConsentStatus, LegalBasis
from consent.models import ConsentEvent, PolicyVersion, Purpose
from consent.services.events import Recorded
from consent.services.intake import MAX_BATCH
from privacydesk.apikit import (
    AwareDateTimeField,
    IdentityField,
    StrictSerializer,
    parse,
)

# --- inputs -----------------------------------------------------------------


class EvidenceSchemaSerializer(serializers.Serializer):
    """Documentation only: the service checks the evidence's contents
    (consent.services.events; a blank or null item is left out)."""

    user_agent = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=500
    )
    ai_disclosure_version = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=50,
        help_text="The AI-interaction disclosure shown in the chat (EU AI Act 50).",
    )
    ui_element = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=200,
        help_text="The control the subject used, e.g. `chat-consent-checkbox`.",
    )
    gpc = serializers.BooleanField(
        required=False, help_text="The browser sent a Global Privacy Control signal."
    )
    ip = serializers.IPAddressField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=(
            "The subject's IP as your system saw it; stored only as a keyed "
            "hash. Without it, the calling address is hashed instead."
        ),
    )

    class Meta:
        ref_name = "ConsentEvidence"


@extend_schema_field(EvidenceSchemaSerializer)
class EvidenceField(serializers.JSONField):
    """Passed to the service as sent, so its errors carry `evidence.*` paths."""


class ConsentEventInputSerializer(StrictSerializer):
    identity = IdentityField(
        help_text="Who chose: at least one of email, phone or customer_ids."
    )
    purpose = serializers.CharField(max_length=50, help_text="A purpose slug.")
    action = serializers.ChoiceField(choices=ConsentAction.choices)
    policy_version = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=30,
        help_text="The version label shown to the subject; the current one if absent.",
    )
    channel = serializers.ChoiceField(
        choices=ConsentChannel.choices, default=ConsentChannel.API
    )
    source_system = serializers.CharField(
        required=False, allow_blank=True, max_length=50, default=""
    )
    occurred_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="When the subject chose (defaults to now; never in the future).",
    )
    idempotency_key = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=200,
        help_text="Repeat it on a retry: the first event comes back, nothing new.",
    )
    evidence = EvidenceField(required=False, allow_null=True)

    class Meta:
        ref_name = "ConsentEventInput"


class ConsentEventBatchInputSerializer(StrictSerializer):
    events = ConsentEventInputSerializer(many=True)

    class Meta:
        ref_name = "ConsentEventBatchInput"


def parse_events(data: Any) -> tuple[list[Mapping[str, Any]], bool]:
    """One event, or `{"events": [...]}`; returns (items, is_batch).

    Every item is checked before anything is written; an error names its
    item, e.g. `events[3].action`.
    """
    if not isinstance(data, Mapping):
        raise serializers.ValidationError(
            {"non_field_errors": ['send one event or {"events": [...]}']}
        )
    if "events" not in data:
        return [parse(ConsentEventInputSerializer, data)], False
    unknown = sorted(set(data) - {"events"})
    if unknown:
        raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
    events = data["events"]
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_BATCH:
        raise serializers.ValidationError(
            {"events": [f"a list of 1 to {MAX_BATCH} events"]}
        )
    items: list[Mapping[str, Any]] = []
    for index, item in enumerate(events):
        try:
            items.append(parse(ConsentEventInputSerializer, item))
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            raise serializers.ValidationError(
                {
                    f"events[{index}]" + (f".{name}" if name else ""): messages
                    for name, messages in detail.items()
                }
            ) from exc
    return items, True


class ConsentCheckInputSerializer(StrictSerializer):
    identity = IdentityField(help_text="Who: at least one identifier.")
    purpose = serializers.CharField(max_length=50, help_text="A purpose slug.")

    class Meta:
        ref_name = "ConsentCheckInput"


class ConsentGpcInputSerializer(StrictSerializer):
    identity = IdentityField(help_text="Whose browser sent `Sec-GPC: 1`.")
    evidence = EvidenceField(required=False, allow_null=True)

    class Meta:
        ref_name = "ConsentGpcInput"


# --- outputs ------------------------------------------------------------------


class ConsentCheckSerializer(serializers.Serializer):
    """May this purpose use this subject now?"""

    allowed = serializers.BooleanField()
    state = serializers.ChoiceField(choices=ConsentStatus.choices)
    purpose = serializers.CharField()
    policy_version = serializers.CharField(
        allow_null=True,
        help_text="The wording consented to; for `default`, the current wording.",
    )
    since = serializers.DateTimeField(
        allow_null=True, help_text="When the subject last chose; null for `default`."
    )

    class Meta:
        ref_name = "ConsentCheck"


class ConsentEventSerializer(serializers.Serializer):
    """One recorded choice (evidence holds hashes and versions, never an IP)."""

    id = serializers.UUIDField(source="event.public_id")
    subject = serializers.UUIDField(source="event.subject.public_id")
    purpose = serializers.CharField(source="event.purpose.slug")
    action = serializers.ChoiceField(
        source="event.action", choices=ConsentAction.choices
    )
    policy_version = serializers.CharField(source="event.policy_version.version")
    policy_sha256 = serializers.CharField(source="event.policy_version.sha256")
    channel = serializers.ChoiceField(
        source="event.channel", choices=ConsentChannel.choices
    )
    source_system = serializers.CharField(source="event.source_system")
    occurred_at = serializers.DateTimeField(source="event.occurred_at")
    recorded_at = serializers.DateTimeField(source="event.created_at")
    idempotency_key = serializers.CharField(
        source="event.idempotency_key", allow_null=True
    )
    evidence = serializers.JSONField(source="event.evidence")
    replayed = serializers.SerializerMethodField(
        help_text="True when an earlier call with this idempotency key recorded it."
    )

    class Meta:
        ref_name = "ConsentEvent"

    def get_replayed(self, recorded: Recorded) -> bool:
        return not recorded.created


class ConsentEventBatchSerializer(serializers.Serializer):
    events = ConsentEventSerializer(many=True)

    class Meta:
        ref_name = "ConsentEventBatch"


class HistoryEventSerializer(serializers.ModelSerializer):
    """An event in a subject's history."""

    id = serializers.UUIDField(source="public_id")
    purpose = serializers.CharField(source="purpose.slug")
    policy_version = serializers.CharField(source="policy_version.version")
    policy_sha256 = serializers.CharField(source="policy_version.sha256")
    recorded_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "purpose",
            "action",
            "policy_version",
            "policy_sha256",
            "channel",
            "source_system",
            "occurred_at",
            "recorded_at",
            "recorded_by",
            "evidence",
        ]
        ref_name = "ConsentHistoryEvent"


class PurposeConsentSerializer(serializers.Serializer):
    """A subject's current state for one purpose."""

    purpose = serializers.CharField(source="purpose.slug")
    name = serializers.CharField(source="purpose.name")
    state = serializers.ChoiceField(choices=ConsentStatus.choices)
    allowed = serializers.BooleanField()
    needs_renewal = serializers.BooleanField()
    policy_version = serializers.CharField(
        source="consented_version.version", allow_null=True, default=None
    )
    current_version = serializers.CharField(
        source="current_version.version", allow_null=True, default=None
    )
    since = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "PurposeConsent"


class SubjectConsentsSerializer(serializers.Serializer):
    subject = serializers.UUIDField()
    consents = PurposeConsentSerializer(many=True)
    events = HistoryEventSerializer(many=True)

    class Meta:
        ref_name = "SubjectConsents"


class PolicyVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyVersion
        fields = ["version", "text", "sha256", "effective_at", "material"]
        ref_name = "PolicyVersion"


class PurposeSerializer(serializers.ModelSerializer):
    """A purpose and the wording to show for it now."""

    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Purpose
        fields = [
            "slug",
            "name",
            "description",
            "legal_basis",
            "is_sale_or_sharing",
            "default_granted",
            "current_version",
        ]
        ref_name = "Purpose"

    @extend_schema_field(PolicyVersionSerializer(allow_null=True))
    def get_current_version(self, purpose: Purpose) -> dict[str, Any] | None:
        version = self.context["current_versions"].get(purpose.pk)
        return PolicyVersionSerializer(version).data if version else None


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField()

    class Meta:
        ref_name = "ConsentPing"
