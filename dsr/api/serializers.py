"""Shapes of the requests API: strict inputs, outputs without personal data.

Input serializers check types and reject unknown keys; the rules (what a valid
identity is, who may set `received_at`, which transitions are legal) live in
the services, whose errors the API exception handler renders.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connectors.choices import Action
from dsr.choices import (
    PauseReason,
    Regime,
    RequestKind,
    RequestStatus,
    TaskStatus,
    VerificationMethod,
)
from dsr.clock import days_left, end_of_day
from dsr.lifecycle import request_awaiting_review
from dsr.models import Request, RequestTask
from dsr.selectors import request_progress
from dsr.services.intake import BATCH_MAX
from dsr.services.requests import CLOSING_OUTCOMES
from privacydesk.apikit import (
    AwareDateTimeField,
    IdentityField,
    OutputSerializer,
    StrictSerializer,
)

# `fields` is a name of the API and also a Serializer attribute. DRF's
# metaclass takes declared fields off the class, so nothing is shadowed at run
# time; the stubs cannot see that and report an override
# ("type: ignore[assignment]  # API name, see top" on that line).

# --- Inputs ---------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"name": "Ada Lovelace"},
    }
)
class CorrectionsField(serializers.JSONField):
    """Field name -> corrected value; an object, whose contents the service
    checks."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError('must be an object like {"name": "…"}')
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "contact": {"type": "string", "format": "email"},
            "power_of_attorney": {"type": "boolean", "default": False},
        },
        "required": ["name", "contact"],
        "additionalProperties": False,
        "nullable": True,
        "example": {"name": "Privacy Agents Inc.", "contact": "cases@agent.example"},
    }
)
class AgentField(serializers.JSONField):
    """An authorised agent filing for the consumer (CCPA-REG §7063); the
    service checks its contents."""

    def to_internal_value(self, data: Any) -> Any:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                'must be an object like {"name": "…", "contact": "…"}'
            )
        return super().to_internal_value(data)


class RequestCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    regime = serializers.ChoiceField(choices=Regime.choices)
    identity = IdentityField(
        help_text="Who the requester says they are: at least one identifier."
    )
    details = serializers.CharField(required=False, allow_blank=True)
    corrections = CorrectionsField(
        required=False,
        allow_null=True,
        help_text="Rectification only: the corrections asked for.",
    )
    received_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "When the request first reached any official channel (starts the "
            "legal clock); defaults to now. Needs the scope requests:verify."
        ),
    )
    verified = serializers.BooleanField(
        default=False,
        help_text=(
            "True when the calling system has authenticated the requester. "
            "Needs the scope requests:verify."
        ),
    )
    agent = AgentField(
        required=False,
        allow_null=True,
        help_text=(
            "Filed by an authorised agent (CCPA-REG §7063): the agent's name and "
            "e-mail address, and `power_of_attorney` when one is held. The "
            "request waits, its clock running, until the agent's written "
            "authority is recorded and the consumer confirms with the code sent "
            "to `identity.email` (their own address). Not with `verified`."
        ),
    )


class RequestBatchSerializer(StrictSerializer):
    """Requests a system forwards together, recorded all or none."""

    requests = serializers.ListField(
        child=RequestCreateSerializer(),
        min_length=1,
        max_length=BATCH_MAX,
        help_text=(
            f"1 to {BATCH_MAX} requests, each what `POST /api/v1/requests/` takes."
        ),
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # The size first, under the field's own name: 5,000 items are refused
        # without checking each one.
        items = data.get("requests") if isinstance(data, dict) else None
        if isinstance(items, list) and not 1 <= len(items) <= BATCH_MAX:
            raise serializers.ValidationError(
                {"requests": [f"give 1 to {BATCH_MAX} requests (got {len(items)})"]}
            )
        return super().to_internal_value(data)


class RequestFilterSerializer(serializers.Serializer[Any]):
    """Query parameters of the request list (unknown parameters are ignored)."""

    status = serializers.ChoiceField(
        choices=RequestStatus.choices, required=False, allow_blank=True
    )
    kind = serializers.ChoiceField(
        choices=RequestKind.choices, required=False, allow_blank=True
    )
    regime = serializers.ChoiceField(
        choices=Regime.choices, required=False, allow_blank=True
    )
    due_within = serializers.IntegerField(
        required=False,
        min_value=0,
        # No deadline is years away; past this the date would overflow (a 500).
        max_value=3660,
        help_text="Open requests due within this many days (overdue included).",
    )
    overdue = serializers.BooleanField(
        required=False, default=False, help_text="Only open requests past due."
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        help_text="Part of a reference, e.g. DSR-2025-000123.",
    )


class VerifySerializer(StrictSerializer):
    method = serializers.ChoiceField(
        choices=VerificationMethod.choices, default=VerificationMethod.API_VOUCHED
    )


class EmptySerializer(StrictSerializer):
    """No body expected (an empty JSON object is fine)."""


class ApproveSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "What the officer checked; required (a few words) for a request "
            "under review before its erasure (`review_before_work`)."
        ),
    )


class ReleasePackageSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="What the officer checked in the package (optional).",
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        help_text="Why; the subject is told.", allow_blank=True
    )


class OptionalReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PauseSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=PauseReason.choices)


class CloseSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(
        choices=[(status.value, status.label) for status in CLOSING_OUTCOMES]
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required unless the outcome is completed.",
    )


class NoteCreateSerializer(StrictSerializer):
    text = serializers.CharField(allow_blank=True)


# --- Outputs --------------------------------------------------------------


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as "" when unset, shown as null."""

    def to_representation(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_representation(value)


class ClockPauseSerializer(OutputSerializer):
    reason = serializers.ChoiceField(choices=PauseReason.choices, read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True)


class RequestSerializer(OutputSerializer):
    """A request as integrations see it: ids, status and clock, no personal data."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    reference = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=RequestKind.choices, read_only=True)
    regime = serializers.ChoiceField(choices=Regime.choices, read_only=True)
    channel = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=RequestStatus.choices, read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    due_on = serializers.DateField(read_only=True)
    due_at = serializers.SerializerMethodField(
        help_text="The end of the due day in the controller's time zone."
    )
    standard_due_on = serializers.DateField(
        read_only=True, help_text="The due date without an extension."
    )
    extension_notice_by = serializers.DateField(
        read_only=True, help_text="Last day to tell the subject of an extension."
    )
    acknowledge_by = serializers.DateField(
        read_only=True, allow_null=True, help_text="CCPA: confirm receipt by."
    )
    extended = serializers.BooleanField(source="is_extended", read_only=True)
    extension_reason = serializers.CharField(read_only=True)
    verified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    verification_method = BlankAsNullChoiceField(
        choices=VerificationMethod.choices, read_only=True, allow_null=True
    )
    requires_approval = serializers.BooleanField(read_only=True)
    review_before_work = serializers.BooleanField(
        read_only=True,
        help_text="An officer reviews it before its work runs (REVIEW_BEFORE_ERASURE).",
    )
    review_before_release = serializers.BooleanField(
        read_only=True,
        help_text=(
            "Its access package is released by an officer "
            "(REVIEW_BEFORE_ACCESS_RELEASE)."
        ),
    )
    awaiting_review = serializers.SerializerMethodField(
        help_text=(
            '"approval": verified, waiting for an officer to approve or reject; '
            '"release": its access package waits to be released; "": neither.'
        )
    )
    status_reason = serializers.CharField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    pauses = ClockPauseSerializer(many=True, read_only=True)
    days_left = serializers.SerializerMethodField(
        help_text="Days until due (negative when overdue); null once closed."
    )

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at(self, request: Request) -> str:
        return end_of_day(request.due_on).isoformat()

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_days_left(self, request: Request) -> int | None:
        return days_left(request) if request.is_open else None

    @extend_schema_field({"type": "string", "enum": ["approval", "release", ""]})
    def get_awaiting_review(self, request: Request) -> str:
        return request_awaiting_review(request=request)


class RequestProgressSerializer(OutputSerializer):
    """How far the work in every store has got."""

    tasks_total = serializers.IntegerField(read_only=True)
    tasks_done = serializers.IntegerField(
        read_only=True,
        help_text="Tasks that ended: succeeded, failed, exempted or skipped.",
    )
    records_found = serializers.IntegerField(
        read_only=True,
        help_text="Records found so far (verification passes not counted).",
    )
    records_changed = serializers.IntegerField(
        read_only=True, help_text="Records changed so far (erased, corrected...)."
    )


class TaskExemptionSerializer(OutputSerializer):
    """Data deliberately kept, with its legal basis."""

    location = serializers.CharField(
        read_only=True, help_text="Table, file or object; `*` for the whole store."
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # API name, see top
        child=serializers.CharField(), read_only=True
    )
    basis = serializers.CharField(
        read_only=True, help_text="E.g. GDPR 17(3)(b) legal obligation."
    )
    reason = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    until = serializers.SerializerMethodField(
        help_text="The day until which the kept data may persist, when the store "
        "says (a model provider's abuse-monitoring logs); null otherwise."
    )

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_until(self, exemption: dict[str, Any]) -> str | None:
        return exemption.get("until") or None


class RequestTaskSerializer(OutputSerializer):
    """One action in one store: status and counts, never the data itself."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    connector = serializers.CharField(
        source="connector.name", read_only=True, help_text="The connector's name."
    )
    action = serializers.ChoiceField(choices=Action.choices, read_only=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices, read_only=True)
    manual = serializers.BooleanField(
        read_only=True, help_text="True when a person does this work by hand."
    )
    attempts = serializers.IntegerField(read_only=True)
    max_attempts = serializers.IntegerField(read_only=True)
    records_found = serializers.IntegerField(read_only=True)
    records_changed = serializers.IntegerField(read_only=True)
    last_error = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    exemptions = TaskExemptionSerializer(many=True, read_only=True)


class RequestDetailSerializer(RequestSerializer):
    clock_start_on = serializers.DateField(
        read_only=True, help_text="The day the legal clock started."
    )
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    correction_fields = serializers.SerializerMethodField(
        help_text="Names of the fields a rectification asks to correct (no values)."
    )
    progress = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField(
        help_text="One entry per action in each connected store."
    )

    def get_correction_fields(self, request: Request) -> list[str]:
        return sorted(request.corrections or {})

    @extend_schema_field(RequestProgressSerializer)
    def get_progress(self, request: Request) -> dict[str, Any]:
        progress = request_progress(tasks=self._tasks(request))
        return dict(self._nested(RequestProgressSerializer).to_representation(progress))

    @extend_schema_field(RequestTaskSerializer(many=True))
    def get_tasks(self, request: Request) -> list[dict[str, Any]]:
        tasks = self._nested(RequestTaskSerializer, many=True)
        # many=True builds a ListSerializer, whose representation is a list;
        # the stubs cannot follow __new__ and type it as one object's.
        return cast(list[dict[str, Any]], tasks.to_representation(self._tasks(request)))

    def _nested(
        self, serializer: type[serializers.Serializer[Any]], many: bool = False
    ) -> Any:
        """One instance of a nested serializer for every request this one
        renders (a list of 100 builds it once, not 100 times)."""
        built = self.__dict__.setdefault("_nested_built", {})
        key = (serializer, many)
        if key not in built:
            built[key] = serializer(many=many) if many else serializer()
        return built[key]

    def _tasks(self, request: Request) -> list[RequestTask]:
        """The request's tasks, read once for both fields."""
        cached = getattr(self, "_tasks_of", None)
        if cached is None or cached[0] != request.pk:
            # Just taken in, the request carries its tasks (prefetched, with
            # their connectors, in the order they were created).
            prefetched = getattr(request, "_prefetched_objects_cache", {})
            tasks = list(
                request.tasks.all()
                if "tasks" in prefetched
                else request.tasks.select_related("connector").order_by(
                    "created_at", "pk"
                )
            )
            self._tasks_of = cached = (request.pk, tasks)
        return cached[1]


class NoteSerializer(OutputSerializer):
    """A note as recorded; its text is not echoed back."""

    id = serializers.IntegerField(read_only=True)
    author_label = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
