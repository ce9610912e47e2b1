"""Shapes of the consent jobs a pull agent works and a webhook calls back on.

The job and state serializers render; the result serializers document the
input for the schema, which `connectors.wire.result_parse` checks (the one
parser for request and consent results alike).
"""

from __future__ import annotations

from rest_framework import serializers

from connectors.api.agent_serializers import JobIdentitySerializer, JobResultSerializer
from connectors.wire import CONSENT_WITHDRAWN
from consent.choices import PropagationStatus


class ConsentJobSerializer(serializers.Serializer):
    """One consent withdrawal for the agent's connector to apply."""

    task_id = serializers.UUIDField(
        help_text="The job's id: use it in the claim, heartbeat and result URLs."
    )
    action = serializers.ChoiceField(
        choices=[(CONSENT_WITHDRAWN, "Consent withdrawn")],
        help_text="Always `consent_withdrawn` on this endpoint.",
    )
    purpose = serializers.CharField(
        help_text=(
            "The purpose's slug, e.g. `ai_training`: stop using the subject's "
            "data for it from now on."
        )
    )
    withdrawn_at = serializers.DateTimeField(help_text="When the subject withdrew.")
    identity = JobIdentitySerializer()
    instructions = serializers.DictField(
        help_text=(
            "What staff configured for this purpose in this store (free-form, "
            'e.g. {"flag": "ai_training_opt_out"}); empty when nothing was set.'
        )
    )
    created_at = serializers.DateTimeField()
    lease_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Set once claimed: heartbeat before it passes."
    )


class ConsentJobStateSerializer(serializers.Serializer):
    """Where a withdrawal stands once a result was recorded."""

    task_id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(
        choices=PropagationStatus.choices,
        help_text='"waiting" again after a retryable failure with attempts left.',
    )
    records_changed = serializers.IntegerField()


# The one parser reads both kinds of result: a withdrawal's is a request job's
# in its own words, without `records` and `exemptions` (refused for it).
class ConsentJobResultSerializer(JobResultSerializer):
    """`"done"` (with what changed), or `"failed"`."""

    task_id = serializers.UUIDField(
        required=False, help_text="If sent, must be the job of the URL."
    )
    found = serializers.IntegerField(
        required=False, min_value=0, help_text="Records found (accepted, not kept)."
    )
    changed = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Records changed: flags set, training copies deleted.",
    )
    note = serializers.CharField(
        required=False,
        max_length=500,
        help_text="What was done, without personal data; shown to staff.",
    )
    # DRF drops an inherited field set to None; the stubs keep the field's type.
    records = None  # type: ignore[assignment]  # DRF removes a field set to None
    exemptions = None  # type: ignore[assignment]  # DRF removes a field set to None


class ConsentCallbackResultSerializer(ConsentJobResultSerializer):
    """A webhook's deferred result: `task_id` is required and signed."""

    task_id = serializers.UUIDField(help_text="The job of the URL.")
