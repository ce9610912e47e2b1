"""Writes of the retention app (see the modules for each part)."""

from retention.services.holds import (
    hold_subject_for_identity,
    legal_hold_place,
    legal_hold_release,
)
from retention.services.minimise import self_minimise_run
from retention.services.policies import (
    retention_builtin_ensure,
    retention_policy_create,
    retention_policy_update,
)
from retention.services.runs import (
    purge_run_alert_send,
    purge_run_enqueue,
    purge_run_resume,
    purge_run_resume_enqueue,
    purge_run_start,
    purge_runs_mark_stale,
)

__all__ = [
    "hold_subject_for_identity",
    "legal_hold_place",
    "legal_hold_release",
    "purge_run_alert_send",
    "purge_run_enqueue",
    "purge_run_resume",
    "purge_run_resume_enqueue",
    "purge_run_start",
    "purge_runs_mark_stale",
    "retention_builtin_ensure",
    "retention_policy_create",
    "retention_policy_update",
    "self_minimise_run",
]
