"""Shapes of the retention API: strict inputs, outputs without personal data.

Holds name a subject only by its pseudonym; the identifiers a hold is placed
with go in and never come out.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dsr.choices import HoldScope
from dsr.models import LegalHold
from privacydesk.apikit import StrictSerializer
from retention.choices import PolicyAction, RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.selectors import policy_next_run_at

# `fields` and `errors` are names of the API and also Serializer attributes.
# DRF's metaclass takes declared fields off the class, so nothing is shadowed
# at run time; the stubs cannot see that and report an override
# ("type: ignore[assignment]  # API name, see top" on those lines).

COUNTS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "examined": {"type": "integer"},
            "changed": {"type": "integer"},
            "skipped_held": {"type": "integer"},
        },
    },
    "description": (
        "Per table: rows past the cutoff looked at (`examined`), deleted or "
        "changed (`changed`), and left alone because of a legal hold "
        "(`skipped_held`)."
    ),
}

# --- inputs -------------------------------------------------------------------------


class PolicyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    connector = serializers.UUIDField(help_text="The connector's public id.")
    table = serializers.CharField(max_length=63, help_text="A table of its map.")
    category = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    age_column = serializers.CharField(
        max_length=63, help_text="The timestamp column that ages a row."
    )
    max_age_days = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=PolicyAction.choices)
    fields = serializers.ListField(  # type: ignore[assignment]  # API name, see top
        child=serializers.CharField(max_length=63),
        required=False,
        default=list,
        help_text="Columns to anonymize or redact (none for delete).",
    )
    apply_to_children = serializers.BooleanField(required=False, default=True)
    enabled = serializers.BooleanField(required=False, default=True)
    schedule = serializers.CharField(
        required=False,
        default="0 3 * * *",
        help_text=(
            "Crontab in the controller's time zone: minute hour day-of-month "
            "month day-of-week."
        ),
    )
    batch_size = serializers.IntegerField(required=False, default=5000)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why (audited)."
    )


class PolicyUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    connector = serializers.UUIDField(required=False)
    table = serializers.CharField(max_length=63, required=False)
    category = serializers.CharField(max_length=50, required=False, allow_blank=True)
    age_column = serializers.CharField(max_length=63, required=False)
    max_age_days = serializers.IntegerField(min_value=1, required=False)
    action = serializers.ChoiceField(choices=PolicyAction.choices, required=False)
    fields = serializers.ListField(  # type: ignore[assignment]  # API name, see top
        child=serializers.CharField(max_length=63), required=False
    )
    apply_to_children = serializers.BooleanField(required=False)
    enabled = serializers.BooleanField(required=False)
    schedule = serializers.CharField(required=False)
    batch_size = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RunRequestSerializer(StrictSerializer):
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Count what would change, per table, and change nothing.",
    )
    confirm_dry_run = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "A real run only: the id of the policy's `confirmation.dry_run` "
            "(a dry run of this policy version that finished in the last 24 "
            "hours), whose counts the caller confirms."
        ),
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A real run only: true, to confirm the rows will change for good.",
    )


class SubjectIdentitySerializer(StrictSerializer):
    email = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    customer_ids = serializers.DictField(child=serializers.CharField(), required=False)


class HoldCreateSerializer(StrictSerializer):
    scope = serializers.ChoiceField(choices=HoldScope.choices)
    subject_identity = SubjectIdentitySerializer(
        required=False,
        help_text=(
            "scope=subject: the person's identifiers (never returned). Or give "
            "`request` instead."
        ),
    )
    request = serializers.UUIDField(
        required=False, help_text="scope=subject: the subject of this request."
    )
    connector = serializers.UUIDField(
        required=False, help_text="scope=connector or table."
    )
    table = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField()
    legal_basis = serializers.CharField(
        max_length=200, help_text='e.g. "GDPR 17(3)(e): litigation hold".'
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class HoldReleaseSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class HoldFilterSerializer(serializers.Serializer):
    active = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true or false."
    )


class RunFilterSerializer(serializers.Serializer):
    policy = serializers.UUIDField(required=False, help_text="Runs of this policy.")
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    dry_run = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- outputs ------------------------------------------------------------------------


class RunBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    dry_run = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ConfirmationSerializer(serializers.Serializer):
    dry_run = serializers.UUIDField(
        help_text="The dry run to name in `confirm_dry_run`."
    )
    store = serializers.CharField()
    action = serializers.CharField(help_text="What a real run does to each row.")
    rows = serializers.IntegerField(help_text="Rows a real run would change.")
    tables = serializers.DictField(child=serializers.IntegerField())
    dry_run_finished_at = serializers.DateTimeField()
    dry_run_by = serializers.CharField()
    summary = serializers.CharField()


class PolicySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    builtin = serializers.BooleanField(read_only=True)
    connector = serializers.SerializerMethodField()
    table = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    age_column = serializers.CharField(read_only=True)
    max_age_days = serializers.IntegerField(read_only=True)
    action = serializers.ChoiceField(choices=PolicyAction.choices, read_only=True)
    fields = serializers.ListField(  # type: ignore[assignment]  # API name, see top
        child=serializers.CharField(), read_only=True
    )
    apply_to_children = serializers.BooleanField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    schedule = serializers.CharField(read_only=True)
    batch_size = serializers.IntegerField(read_only=True)
    last_run = serializers.SerializerMethodField()
    next_run_at = serializers.SerializerMethodField()
    real_runs_confirmed = serializers.SerializerMethodField(
        help_text=(
            "false: the schedule dry-runs this policy until staff confirm a "
            "real run (a new policy, or one whose scope changed)."
        )
    )
    confirmation = serializers.SerializerMethodField(
        help_text=(
            "What a real run would change, from the latest dry run of this "
            "policy version in the last 24 hours; null: dry-run it first."
        )
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
            },
        }
    )
    def get_connector(self, policy: RetentionPolicy) -> dict[str, str] | None:
        if policy.connector is None:
            return None
        return {"id": str(policy.connector.public_id), "name": policy.connector.name}

    @extend_schema_field(RunBriefSerializer(allow_null=True))
    def get_last_run(self, policy: RetentionPolicy) -> dict[str, Any] | None:
        runs = self.context.get("last_runs", {})
        run = runs.get(policy.pk)
        return RunBriefSerializer(run).data if run else None

    @extend_schema_field(serializers.BooleanField())
    def get_real_runs_confirmed(self, policy: RetentionPolicy) -> bool:
        return policy.real_runs_confirmed_at is not None

    @extend_schema_field(ConfirmationSerializer(allow_null=True))
    def get_confirmation(self, policy: RetentionPolicy) -> dict[str, Any] | None:
        found = self.context.get("confirmations", {}).get(policy.pk)
        return found.as_json() if found is not None else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run_at(self, policy: RetentionPolicy) -> str | None:
        when = policy_next_run_at(policy=policy)
        return serializers.DateTimeField().to_representation(when) if when else None


class HoldSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    scope = serializers.ChoiceField(choices=HoldScope.choices, read_only=True)
    subject = serializers.SerializerMethodField(
        help_text="The subject's pseudonymous reference (scope=subject)."
    )
    connector = serializers.SerializerMethodField()
    table = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    legal_basis = serializers.CharField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    active = serializers.SerializerMethodField()
    placed_by = serializers.CharField(source="placed_by_label", read_only=True)
    released_at = serializers.DateTimeField(read_only=True, allow_null=True)
    released_by = serializers.CharField(source="released_by_label", read_only=True)
    release_note = serializers.CharField(read_only=True)

    def get_subject(self, hold: LegalHold) -> str:
        return hold.subject.pseudonym if hold.subject is not None else ""

    def get_connector(self, hold: LegalHold) -> str:
        return hold.connector.name if hold.connector is not None else ""

    def get_active(self, hold: LegalHold) -> bool:
        return hold.is_active()


class RunSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    policy = serializers.SerializerMethodField()
    dry_run = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    cutoff = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    tables = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    batches = serializers.IntegerField(read_only=True)
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]  # API name, see top
    longest_batch_ms = serializers.IntegerField(read_only=True)
    longest_transaction_ms = serializers.IntegerField(read_only=True)
    peak_rss_kb = serializers.IntegerField(read_only=True, allow_null=True)
    triggered_by = serializers.CharField(read_only=True)
    resumed_count = serializers.IntegerField(read_only=True)
    policy_version = serializers.IntegerField(read_only=True, allow_null=True)
    holds = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
            },
        }
    )
    def get_policy(self, run: PurgeRun) -> dict[str, str]:
        return {"id": str(run.policy.public_id), "name": run.policy.name}

    @extend_schema_field(COUNTS_SCHEMA)
    def get_tables(self, run: PurgeRun) -> dict[str, Any]:
        return run.tables

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "examined": {"type": "integer"},
                "changed": {"type": "integer"},
                "skipped_held": {"type": "integer"},
            },
        }
    )
    def get_totals(self, run: PurgeRun) -> dict[str, int]:
        return run.totals()

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "message": {"type": "string"},
                    "permanent": {"type": "boolean"},
                },
            },
        }
    )
    def get_errors(self, run: PurgeRun) -> list[dict[str, Any]]:
        return run.errors

    @extend_schema_field(
        {
            "type": "array",
            "description": "The legal holds that applied, with their legal basis.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "scope": {"type": "string"},
                    "subject": {"type": "string"},
                    "connector": {"type": "string"},
                    "table": {"type": "string"},
                    "legal_basis": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        }
    )
    def get_holds(self, run: PurgeRun) -> list[dict[str, Any]]:
        return run.holds


class RunQueuedSerializer(serializers.Serializer):
    policy = serializers.UUIDField()
    dry_run = serializers.BooleanField()
    status = serializers.CharField(help_text='"queued": a worker starts the run.')
