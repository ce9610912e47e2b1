"""The record's API shape: the value types of records.selectors.facts."""

from __future__ import annotations

from rest_framework import serializers

from privacydesk.apikit import OutputSerializer


class GapSerializer(OutputSerializer):
    scope = serializers.CharField(help_text="store, activity or controller")
    subject = serializers.CharField(
        help_text="the store's or activity's name; empty for the controller"
    )
    kind = serializers.CharField(
        help_text=(
            "no_purpose, no_data_categories, no_retention, retention_not_enforced, "
            "transfer_without_safeguard, no_subject_categories, no_store, "
            "no_controller_contact, no_dpo, no_security_measures"
        )
    )
    message = serializers.CharField()


class RecipientSerializer(OutputSerializer):
    name = serializers.CharField()
    role = serializers.CharField()
    role_label = serializers.CharField()
    country = serializers.CharField(help_text="as recorded; empty if not recorded")
    # DRF's metaclass takes declared fields out of the class, so a field may
    # be called `source`; the stubs see Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="connector kind, store disclosure or officer"
    )
    store = serializers.CharField(help_text="the store it comes from, if any")
    description = serializers.CharField()


class TransferSerializer(OutputSerializer):
    country = serializers.CharField()
    recipient = serializers.CharField()
    safeguards = serializers.CharField(help_text="empty when none is recorded (a gap)")
    source = serializers.CharField()  # type: ignore[assignment]  # as above
    store = serializers.CharField()


class RetentionSerializer(OutputSerializer):
    store = serializers.CharField()
    category = serializers.CharField(help_text="empty: every category it is stated for")
    text = serializers.CharField()
    # DRF's metaclass takes declared fields out of the class, so a field may
    # be called `source`; the stubs see Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="retention policy, store disclosure or officer"
    )
    enforced = serializers.BooleanField(help_text="a scheduled purge applies it")


class StorePurposeSerializer(OutputSerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    legal_basis = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # as above


class StoreSerializer(OutputSerializer):
    name = serializers.CharField()
    public_id = serializers.UUIDField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    enabled = serializers.BooleanField()
    processor = serializers.BooleanField(
        help_text="a support-SaaS kind: its vendor processes the data for us"
    )
    categories = serializers.ListField(child=serializers.CharField())
    purposes = StorePurposeSerializer(many=True)
    recipients = RecipientSerializer(many=True)
    transfers = TransferSerializer(many=True)
    retention = RetentionSerializer(many=True)
    gaps = GapSerializer(many=True)


class DataMapSerializer(OutputSerializer):
    stores = StoreSerializer(many=True)
    categories = serializers.ListField(child=serializers.CharField())


class ActivitySerializer(OutputSerializer):
    key = serializers.CharField(
        help_text="purpose:<consent purpose slug>, or text:<the purpose's wording>"
    )
    name = serializers.CharField()
    description = serializers.CharField()
    legal_basis = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    stores = serializers.ListField(child=serializers.CharField())
    data_categories = serializers.ListField(child=serializers.CharField())
    subject_categories = serializers.ListField(child=serializers.CharField())
    recipients = RecipientSerializer(many=True)
    transfers = TransferSerializer(many=True)
    retention = RetentionSerializer(many=True)
    gaps = GapSerializer(many=True)


class ControllerSerializer(OutputSerializer):
    name = serializers.CharField()
    address = serializers.CharField()
    contact = serializers.CharField()
    representative = serializers.CharField()
    joint_controllers = serializers.CharField()
    dpo_name = serializers.CharField()
    dpo_contact = serializers.CharField()
    dpo_not_designated_reason = serializers.CharField()


class RecordSerializer(OutputSerializer):
    version = serializers.IntegerField(
        help_text="raised by every change to the officer's part"
    )
    record_sha256 = serializers.CharField(
        help_text="SHA-256 of this content; exports cite it"
    )
    changed_at = serializers.DateTimeField(allow_null=True)
    controller = ControllerSerializer()
    security_measures = serializers.CharField()
    activities = ActivitySerializer(many=True)
    data_map = DataMapSerializer()
    gaps = GapSerializer(many=True)
