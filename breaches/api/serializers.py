"""Shapes of the breach register API: strict inputs, outputs without any
subject's address (notices are counted, never listed with addresses)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from breaches.choices import (
    AuthorityDecision,
    BreachStatus,
    ClockState,
    RiskLevel,
    SubjectsDecision,
)
from breaches.clock import breach_clock
from breaches.models import Breach
from breaches.selectors import breach_notice_counts
from breaches.services.register import missing_33_3
from privacydesk.apikit import AwareDateTimeField, OutputSerializer, StrictSerializer

# --- inputs -------------------------------------------------------------------------


def _text(help_text: str = "", *, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        required=required,
        allow_blank=not required,
        max_length=20000,
        help_text=help_text,
    )


class _BreachFields(StrictSerializer):
    """Every field of a breach a client may set (all optional here)."""

    title = serializers.CharField(required=False, max_length=200)
    aware_at = AwareDateTimeField(
        required=False,
        help_text=(
            "When the controller became aware of the breach: the 72-hour clock "
            "of Art. 33(1) runs from here, in real hours."
        ),
    )
    occurred_at = AwareDateTimeField(
        required=False, allow_null=True, help_text="When it happened, if known."
    )
    description = _text("Art. 33(3)(a): the nature of the breach.")
    data_categories = _text("Art. 33(3)(a): categories of personal data.")
    subject_categories = _text("Art. 33(3)(a): categories of data subjects.")
    approx_subjects = serializers.IntegerField(
        required=False, allow_null=True, min_value=0
    )
    approx_records = serializers.IntegerField(
        required=False, allow_null=True, min_value=0
    )
    contact_point = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Art. 33(3)(b): the DPO or another contact point.",
    )
    consequences = _text("Art. 33(3)(c): likely consequences.")
    measures = _text("Art. 33(3)(d): measures taken or proposed.")
    risk = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    risk_reasons = _text()
    authority_decision = serializers.ChoiceField(
        choices=AuthorityDecision.choices,
        required=False,
        help_text="`not_notify` needs `risk`=none and the reasons (Art. 33(5)).",
    )
    authority_decision_reasons = _text()
    subjects_decision = serializers.ChoiceField(
        choices=SubjectsDecision.choices,
        required=False,
        help_text="Any choice but `notify` and `pending` needs the reasons.",
    )
    subjects_decision_reasons = _text()
    late_reason = _text("Reasons for a notification after 72 hours.")


class BreachCreateSerializer(_BreachFields):
    title = serializers.CharField(max_length=200)
    aware_at = AwareDateTimeField(
        help_text=(
            "When the controller became aware of the breach: the 72-hour clock "
            "of Art. 33(1) runs from here, in real hours."
        )
    )
    description = _text("Art. 33(3)(a): the nature of the breach.", required=True)


class BreachUpdateSerializer(_BreachFields):
    """Only the keys sent change."""


class NotifyAuthoritySerializer(StrictSerializer):
    notified_at = AwareDateTimeField(
        help_text="When the supervisory authority was notified."
    )
    reference = serializers.CharField(
        max_length=200, help_text="The authority's case reference."
    )
    late_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20000,
        help_text="Required when notified more than 72 hours after `aware_at`.",
    )


class BreachFilterSerializer(serializers.Serializer[Any]):
    """The list's query: a parameter it does not know is a 400, not ignored
    (a misspelt filter would otherwise list everything)."""

    PAGING = frozenset({"limit", "offset"})

    status = serializers.ChoiceField(choices=BreachStatus.choices, required=False)

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields) - self.PAGING)
        if unknown:
            raise serializers.ValidationError(
                {name: ["unknown parameter"] for name in unknown}
            )
        return super().to_internal_value(data)


# --- outputs ------------------------------------------------------------------------


class ClockSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=ClockState.choices)
    notify_by = serializers.DateTimeField()
    hours_left = serializers.FloatField(
        help_text="Negative once overdue; when stopped, the hours left at the stop."
    )
    label = serializers.CharField()  # type: ignore[assignment]  # API name: DRF moves declared fields off the class


class NoticeCountsSerializer(serializers.Serializer[Any]):
    queued = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()


class BreachSerializer(OutputSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    reference = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=BreachStatus.choices, read_only=True)
    aware_at = serializers.DateTimeField(read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True)
    data_categories = serializers.CharField(read_only=True)
    subject_categories = serializers.CharField(read_only=True)
    approx_subjects = serializers.IntegerField(read_only=True, allow_null=True)
    approx_records = serializers.IntegerField(read_only=True, allow_null=True)
    contact_point = serializers.CharField(read_only=True)
    consequences = serializers.CharField(read_only=True)
    measures = serializers.CharField(read_only=True)
    missing_33_3 = serializers.SerializerMethodField(
        help_text="Art. 33(3) fields still empty (they may follow in phases)."
    )
    risk = serializers.ChoiceField(choices=RiskLevel.choices, read_only=True)
    risk_reasons = serializers.CharField(read_only=True)
    authority_decision = serializers.ChoiceField(
        choices=AuthorityDecision.choices, read_only=True
    )
    authority_decision_reasons = serializers.CharField(read_only=True)
    authority_notified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    authority_reference = serializers.CharField(read_only=True)
    late_reason = serializers.CharField(read_only=True)
    subjects_decision = serializers.ChoiceField(
        choices=SubjectsDecision.choices, read_only=True
    )
    subjects_decision_reasons = serializers.CharField(read_only=True)
    clock = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_33_3(self, breach: Breach) -> list[str]:
        return missing_33_3(breach)

    @extend_schema_field(ClockSerializer)
    def get_clock(self, breach: Breach) -> dict[str, Any]:
        clock = breach_clock(breach)
        return dict(
            ClockSerializer(
                {
                    "state": clock.state,
                    "notify_by": clock.notify_by,
                    "hours_left": round(clock.hours_left, 2),
                    "label": clock.label,
                }
            ).data
        )

    @extend_schema_field(NoticeCountsSerializer)
    def get_notices(self, breach: Breach) -> dict[str, int]:
        return breach_notice_counts(breach=breach)
