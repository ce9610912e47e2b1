"""`pull`: an agent inside the customer's network fetches its jobs.

For a CRM behind a firewall that we cannot call: `run` only parks the job
(Deferred, so the task waits). The agent, holding a token bound to this one
connector, lists waiting jobs, claims one with a lease, heartbeats while it
works and posts the result (dsr.services.agent_jobs, dsr.api.agent_views).
Consent withdrawals for this connector wait the same way (`withdraw_consent`
parks them), at `/api/v1/agent/consent-jobs/` (consent.services.jobs).

Config: `{"lease_seconds": 300, "actions": [...]}`; no secrets (the agent's
bearer token is issued with `manage.py create_agent_token <connector>`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import ApiClient
from connectors.base import (
    JSON_SCHEMA_DIALECT,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    HealthReport,
    Job,
    Outcome,
    RecordSink,
    WithdrawalJob,
)
from connectors.kinds.remote import (
    ACTIONS_SCHEMA,
    ALL_ACTIONS,
    actions_from_config,
    clean_actions,
)

DEFAULT_LEASE_SECONDS = 300
MIN_LEASE_SECONDS = 30
MAX_LEASE_SECONDS = 24 * 3600
# An agent polls far more often than this; silence means it is down.
AGENT_SILENT_AFTER = timedelta(minutes=15)


class PullConnector(ConnectorKind):
    """Jobs wait until the connector's own agent claims them."""

    kind = "pull"
    label = "Pull agent (CRM side)"
    actions = ALL_ACTIONS
    secret_fields = ()
    withdraws_consent = True

    def configured_actions(self) -> frozenset[str]:
        return actions_from_config(self.config)

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": cls.label,
            "type": "object",
            "properties": {
                "lease_seconds": {
                    "type": "integer",
                    "description": "How long a claim holds a job without a heartbeat.",
                    "minimum": MIN_LEASE_SECONDS,
                    "maximum": MAX_LEASE_SECONDS,
                    "default": DEFAULT_LEASE_SECONDS,
                },
                "actions": ACTIONS_SCHEMA,
            },
            "additionalProperties": False,
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        unknown = set(config) - {"lease_seconds", "actions"}
        if unknown:
            raise ConfigError("unknown field", field=f"config.{sorted(unknown)[0]}")
        lease = config.get("lease_seconds", DEFAULT_LEASE_SECONDS)
        if (
            isinstance(lease, bool)
            or not isinstance(lease, int)
            or not MIN_LEASE_SECONDS <= lease <= MAX_LEASE_SECONDS
        ):
            raise ConfigError(
                f"must be whole seconds between {MIN_LEASE_SECONDS} and "
                f"{MAX_LEASE_SECONDS}",
                field="config.lease_seconds",
            )
        cleaned: dict[str, Any] = {"lease_seconds": lease}
        actions = clean_actions(config)
        if actions is not None:
            cleaned["actions"] = actions
        return cleaned

    @property
    def lease(self) -> timedelta:
        """How long a claim holds a job without a heartbeat."""
        seconds = self.config.get("lease_seconds", DEFAULT_LEASE_SECONDS)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            seconds = DEFAULT_LEASE_SECONDS
        return timedelta(seconds=seconds)

    def job_lease(self) -> timedelta:
        return self.lease

    def withdraw_consent(self, job: WithdrawalJob) -> Deferred:
        """The withdrawal waits for the agent (consent.services.jobs)."""
        return Deferred(note=f"waiting for the agent of {self.name} to claim it")

    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        if job.action not in self.actions:
            raise ConnectorError(
                f"pull connector {self.name} does not take {job.action} jobs",
                permanent=True,
            )
        return Deferred(note=f"waiting for the agent of {self.name} to claim it")

    def health(self) -> HealthReport:
        """Healthy while an agent has called in lately."""
        clients = ApiClient.objects.filter(
            connector__name=self.name, revoked_at__isnull=True
        )
        if not clients.exists():
            raise ConnectorError(
                f"no agent token for {self.name}: issue one with "
                f"`manage.py create_agent_token {self.name}`",
                permanent=True,
            )
        seen = clients.exclude(last_used_at=None).order_by("-last_used_at").first()
        if seen is None or seen.last_used_at is None:
            raise ConnectorError(f"the agent of {self.name} has not called in yet")
        silent = timezone.now() - seen.last_used_at
        if silent > AGENT_SILENT_AFTER:
            raise ConnectorError(
                f"the agent of {self.name} has been silent for "
                f"{int(silent.total_seconds() // 60)} minutes"
            )
        return HealthReport(f"agent last seen {int(silent.total_seconds())} s ago")
