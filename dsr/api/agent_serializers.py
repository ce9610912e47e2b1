"""Shapes of the request jobs of the pull-agent API and the webhook callback:
the job an agent is given, and where its task stands after a result. What
every kind of job shares is connectors.api.agent_serializers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from connectors.api.agent_serializers import JobIdentitySerializer, JobResultSerializer
from connectors.choices import Action
from dsr.choices import TaskStatus


class JobSerializer(serializers.Serializer[Any]):
    """One job of the agent's connector."""

    task_id = serializers.UUIDField(help_text="Use it in the claim/result URLs.")
    request_reference = serializers.CharField(help_text="e.g. `DSR-2026-000123`.")
    action = serializers.ChoiceField(choices=Action.choices)
    identity = JobIdentitySerializer()
    changes = serializers.DictField(
        child=serializers.CharField(),
        help_text="Rectification only: field name → corrected value.",
    )
    restricted = serializers.BooleanField(
        required=False,
        help_text="Restriction only: true to restrict, false to lift it.",
    )
    created_at = serializers.DateTimeField()
    lease_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Set once claimed: heartbeat before it passes."
    )


class TaskStateSerializer(serializers.Serializer[Any]):
    """Where a task stands once a result was recorded."""

    task_id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    records_found = serializers.IntegerField()
    records_changed = serializers.IntegerField()
    result_digest = serializers.CharField(
        help_text="sha256 of the stored access records (access only)."
    )


class CallbackResultSerializer(JobResultSerializer):
    """A webhook's deferred result: `task_id` is required and signed."""

    task_id = serializers.UUIDField(help_text="The task of the URL.")
