"""Views of the staff dashboard; each calls one service or selector."""

from dashboard.views.audit import audit_log, audit_log_csv
from dashboard.views.auth import StaffLoginView, StaffLogoutView
from dashboard.views.clients import api_client_revoke_view, api_clients
from dashboard.views.connectors import (
    connector_check,
    connector_detail,
    connector_edit,
    connector_enable,
    connector_list_view,
    connector_new,
)
from dashboard.views.discovery import (
    connector_rescan_view,
    discovery_detail,
    discovery_new,
)
from dashboard.views.evidence import (
    request_evidence_internal_pdf,
    request_evidence_pdf,
    request_letter_pdf,
    request_package_review,
    run_evidence_pdf,
)
from dashboard.views.requests import (
    queue,
    queue_csv,
    request_action,
    request_detail,
    request_new,
)
from dashboard.views.retention import (
    retention_hold_release,
    retention_holds,
    retention_policies,
    retention_policy_confirm,
    retention_policy_edit,
    retention_policy_new,
    retention_policy_run,
    retention_run_detail,
    retention_run_resume,
    retention_runs,
)
from dashboard.views.tasks import task_action
from dashboard.views.training import training_datasets

__all__ = [
    "connector_rescan_view",
    "discovery_detail",
    "discovery_new",
    "StaffLoginView",
    "StaffLogoutView",
    "api_client_revoke_view",
    "api_clients",
    "audit_log",
    "audit_log_csv",
    "connector_check",
    "connector_detail",
    "connector_edit",
    "connector_enable",
    "connector_list_view",
    "connector_new",
    "queue",
    "queue_csv",
    "request_action",
    "request_detail",
    "request_evidence_internal_pdf",
    "request_evidence_pdf",
    "request_letter_pdf",
    "request_package_review",
    "request_new",
    "retention_hold_release",
    "retention_holds",
    "retention_policies",
    "retention_policy_confirm",
    "retention_policy_edit",
    "retention_policy_new",
    "retention_policy_run",
    "retention_run_detail",
    "retention_run_resume",
    "retention_runs",
    "run_evidence_pdf",
    "task_action",
    "training_datasets",
]
