"""Inputs and answers of the training API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from privacydesk.apikit import IdentityField, OutputSerializer, StrictSerializer
from training.choices import EntryAction, ExclusionReason, KeyKind
from training.models import Dataset, ExclusionEntry
from training.selectors import exclusion_keys

MAX_IDS = settings.TRAINING_DATASET_MAX_IDS
# Conversation ids as pipelines write them; no leading sign a spreadsheet
# would read as a formula in the CSV export.
CONVERSATION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$"
BLIND_INDEX = r"^[0-9a-f]{64}$"
_STRINGS = serializers.ListField(child=serializers.CharField())


class FeedQuerySerializer(StrictSerializer):
    """The feed's query: an unknown parameter is a 400 naming it."""

    since = serializers.IntegerField(
        min_value=0,
        required=False,
        default=0,
        help_text="The `next_since` of the previous page; 0 (or left out) "
        "starts at the beginning.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, default=100
    )


class ExclusionEntrySerializer(OutputSerializer):
    cursor = serializers.IntegerField(source="pk")
    action = serializers.ChoiceField(
        choices=EntryAction.choices,
        help_text="`excluded`: filter these keys out from now on. `lifted`: the "
        "exclusion with this id no longer applies (consent granted again); "
        "a key may still be excluded by another exclusion in force.",
    )
    at = serializers.DateTimeField(source="created_at")
    exclusion = serializers.UUIDField(source="exclusion.public_id")
    reason = serializers.ChoiceField(
        choices=ExclusionReason.choices, source="exclusion.reason"
    )
    excluded_at = serializers.DateTimeField(source="exclusion.created_at")
    blind_indexes = serializers.SerializerMethodField()
    conversation_ids = serializers.SerializerMethodField()

    @extend_schema_field(_STRINGS)
    def get_blind_indexes(self, entry: ExclusionEntry) -> list[str]:
        return exclusion_keys(entry.exclusion, KeyKind.BLIND_INDEX)

    @extend_schema_field(_STRINGS)
    def get_conversation_ids(self, entry: ExclusionEntry) -> list[str]:
        return exclusion_keys(entry.exclusion, KeyKind.CONVERSATION_ID)


class ExclusionFeedSerializer(OutputSerializer):
    results = ExclusionEntrySerializer(many=True)
    next_since = serializers.IntegerField(
        help_text="Pass as `since` to read on; the cursor of the last entry."
    )
    has_more = serializers.BooleanField(help_text="More entries follow at once.")
    key_id = serializers.CharField(help_text="The export key's fingerprint.")


class ExportKeySerializer(OutputSerializer):
    key = serializers.CharField(help_text="The HMAC key, as ASCII (64 hex digits).")
    key_id = serializers.CharField(help_text="Changes when the key changes.")
    algorithm = serializers.CharField()
    message = serializers.CharField(
        help_text="What is hashed: the kind, `|`, the normalised value."
    )
    kinds = serializers.ListField(child=serializers.CharField())
    normalisation = serializers.DictField(child=serializers.CharField())


class ConversationOwnerSerializer(StrictSerializer):
    conversation_id = serializers.RegexField(CONVERSATION_ID, max_length=200)
    identity = IdentityField()


class DatasetCreateSerializer(StrictSerializer):
    name = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", max_length=100)
    version = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,49}$", max_length=50
    )
    conversation_ids = serializers.ListField(
        child=serializers.RegexField(CONVERSATION_ID, max_length=200),
        max_length=MAX_IDS,
        required=False,
        default=list,
    )
    blind_indexes = serializers.ListField(
        child=serializers.RegexField(BLIND_INDEX, max_length=64),
        max_length=MAX_IDS,
        required=False,
        default=list,
        help_text="Export blind indexes (GET /api/v1/training-exclusions/key/).",
    )
    conversation_owners = serializers.ListField(
        child=ConversationOwnerSerializer(),
        max_length=MAX_IDS,
        required=False,
        default=list,
        help_text="Optional: who each conversation involves, so a later "
        "exclusion of a person known here matches the conversation.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["conversation_ids"] and not attrs["blind_indexes"]:
            raise serializers.ValidationError(
                {"conversation_ids": ["give conversation_ids or blind_indexes"]}
            )
        return attrs


class DatasetRebuildSerializer(OutputSerializer):
    exclusion = serializers.UUIDField(source="exclusion.public_id")
    reason = serializers.ChoiceField(
        choices=ExclusionReason.choices, source="exclusion.reason"
    )
    flagged_at = serializers.DateTimeField()


class DatasetSerializer(OutputSerializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    version = serializers.CharField()
    registered_at = serializers.DateTimeField(source="created_at")
    conversation_count = serializers.IntegerField()
    blind_index_count = serializers.IntegerField()
    must_rebuild = serializers.SerializerMethodField(
        help_text="It holds an excluded subject: rebuild it (and register the "
        "result as a new version) before the next training run."
    )
    rebuilds = DatasetRebuildSerializer(many=True)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_must_rebuild(self, dataset: Dataset) -> bool:
        return bool(dataset.rebuilds.all())
