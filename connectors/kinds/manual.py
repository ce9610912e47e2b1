"""A store only a person can reach: every action becomes a task on the dashboard.

Config::

    {"instructions": "Log into the legacy billing system and ...",
     "assignee_email": "billing-team@example.com"}

`run` hands every job over as `Deferred`, so the executor leaves the task
"waiting"; the officer does the work and closes it with
`dsr.services.execution.staff.task_manual_done` (a note, and optionally an
attachment through `dsr.services.execution.staff.task_manual_attach`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from connectors.base import (
    JSON_SCHEMA_DIALECT,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    HealthReport,
    Job,
    RecordSink,
)
from connectors.choices import Action

MAX_INSTRUCTIONS = 4000


class ManualConnector(ConnectorKind):
    """A human carries out each action by following the instructions."""

    kind: ClassVar[str] = "manual"
    label: ClassVar[str] = "Manual task"
    actions = frozenset(Action.values)
    done_by_people = True

    @classmethod
    def instructions_for_people(cls, config: Mapping[str, Any]) -> str:
        text = str(config.get("instructions", ""))
        if config.get("assignee_email"):
            text += f"\nAssigned to {config['assignee_email']}."
        return text

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": cls.label,
            "type": "object",
            "properties": {
                "instructions": {
                    "type": "string",
                    "description": "What a person must do in this store.",
                    "minLength": 10,
                    "maxLength": MAX_INSTRUCTIONS,
                },
                "assignee_email": {"type": "string", "format": "email"},
            },
            "required": ["instructions"],
            "additionalProperties": False,
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        unknown = sorted(set(config) - {"instructions", "assignee_email"})
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r}; use instructions and assignee_email",
                field=f"config.{unknown[0]}",
            )
        instructions = config.get("instructions")
        if not isinstance(instructions, str) or len(instructions.strip()) < 10:
            raise ConfigError(
                "say what a person must do in this store (at least a sentence)",
                field="config.instructions",
            )
        if len(instructions) > MAX_INSTRUCTIONS:
            raise ConfigError(
                f"at most {MAX_INSTRUCTIONS} characters", field="config.instructions"
            )
        cleaned: dict[str, Any] = {"instructions": instructions.strip()}
        assignee = config.get("assignee_email")
        if assignee not in (None, ""):
            try:
                if not isinstance(assignee, str):
                    raise ValidationError("not a string")
                validate_email(assignee.strip())
            except ValidationError as exc:
                raise ConfigError(
                    "must be an e-mail address", field="config.assignee_email"
                ) from exc
            cleaned["assignee_email"] = assignee.strip()
        return cleaned

    def run(self, job: Job, sink: RecordSink) -> Deferred:
        if job.action not in self.actions:
            raise ConnectorError(f"unknown action {job.action}", permanent=True)
        return Deferred(reference=f"manual:{job.task_id}", note=self.note_for(job))

    def note_for(self, job: Job) -> str:
        """What the person sees on the task: the action, then the instructions."""
        action = Action(job.action)
        if action == Action.RESTRICT and not job.restricted:
            what = "Lift the restriction of processing"
        else:
            what = str(action.label)
        note = f"{what} in {self.name}: {self.config.get('instructions', '')}"
        if self.config.get("assignee_email"):
            note += f"\nAssigned to {self.config['assignee_email']}."
        return note

    def health(self) -> HealthReport:
        assignee = self.config.get("assignee_email") or "the privacy team"
        return HealthReport(f"ok: tasks go to {assignee}")
