"""Views of the staff dashboard; each calls one service or selector."""

from dashboard.views.audit import audit_log
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
from dashboard.views.requests import (
    queue,
    request_action,
    request_detail,
    request_new,
)
from dashboard.views.tasks import task_action

__all__ = [
    "StaffLoginView",
    "StaffLogoutView",
    "api_client_revoke_view",
    "api_clients",
    "audit_log",
    "connector_check",
    "connector_detail",
    "connector_edit",
    "connector_enable",
    "connector_list_view",
    "connector_new",
    "queue",
    "request_action",
    "request_detail",
    "request_new",
    "task_action",
]
