"""Shapes every kind of agent job shares (request tasks, dsr.api; consent
withdrawals, consent.api): the subject's identity, the list query, the
lease, and the result an agent or a webhook posts.

The result serializers document the input for the schema; the input itself
is checked by `connectors.wire.result_parse`, the one parser that also reads
a webhook's synchronous answer, so the three ways a result arrives obey the
same rules.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from connectors.wire import ResultStatus

# `data` and `fields` are names of the API and also Serializer attributes.
# DRF's metaclass takes declared fields off the class, so nothing is shadowed
# at run time; the stubs cannot see that and report an override
# ("type: ignore[assignment]  # API name, see top" on those lines).

# --- Jobs -------------------------------------------------------------------------


class JobIdentitySerializer(serializers.Serializer[Any]):
    """The subject's identifiers: personal data, sent to the store that needs
    them and nowhere else."""

    emails = serializers.ListField(child=serializers.CharField())
    phones = serializers.ListField(child=serializers.CharField())
    customer_ids = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Customer ids keyed by the system that issued them.",
    )


class JobListQuerySerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        default=20,
        help_text="At most this many jobs (1-100).",
    )


class LeaseSerializer(serializers.Serializer[Any]):
    task_id = serializers.UUIDField(source="public_id")
    lease_expires_at = serializers.DateTimeField()


# --- Results (documentation of what connectors.wire.result_parse accepts) ---------


class ResultRecordSerializer(serializers.Serializer[Any]):
    location = serializers.CharField(help_text="Table, object or file name.")
    key = serializers.CharField(help_text="The record's key within its location.")
    data = serializers.DictField(  # type: ignore[assignment]  # API name, see top
        help_text="The record's fields."
    )
    category = serializers.CharField(
        required=False, help_text='e.g. "contact", "support_ticket".'
    )


class ResultExemptionSerializer(serializers.Serializer[Any]):
    location = serializers.CharField()
    fields = serializers.ListField(  # type: ignore[assignment]  # API name, see top
        child=serializers.CharField(), required=False
    )
    basis = serializers.CharField(help_text="Legal basis, e.g. `GDPR 17(3)(b)`.")
    reason = serializers.CharField()
    count = serializers.IntegerField(required=False, min_value=0)


class JobResultSerializer(serializers.Serializer[Any]):
    """`"done"` with counts (and records for access), or `"failed"`."""

    task_id = serializers.UUIDField(
        required=False, help_text="If sent, must be the task of the URL."
    )
    status = serializers.ChoiceField(choices=ResultStatus.choices)
    found = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Records found. For access, the number of `records` sent.",
    )
    changed = serializers.IntegerField(
        required=False, min_value=0, help_text="Records changed (erase, rectify)."
    )
    records = ResultRecordSerializer(
        many=True, required=False, help_text="Access only: every record found."
    )
    exemptions = ResultExemptionSerializer(
        many=True, required=False, help_text="Data kept on purpose, with the basis."
    )
    note = serializers.CharField(required=False, max_length=500)
    error = serializers.CharField(
        required=False,
        max_length=2000,
        help_text='With "failed": what went wrong, without personal data.',
    )
    retryable = serializers.BooleanField(
        required=False,
        default=False,
        help_text='With "failed": true if trying again can help.',
    )
