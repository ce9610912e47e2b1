"""Views of the staff dashboard; each calls one service or selector."""

from dashboard.views.audit import audit_log
from dashboard.views.auth import StaffLoginView, StaffLogoutView
from dashboard.views.clients import api_client_revoke_view, api_clients
from dashboard.views.requests import (
    queue,
    request_action,
    request_detail,
    request_new,
)

__all__ = [
    "StaffLoginView",
    "StaffLogoutView",
    "api_client_revoke_view",
    "api_clients",
    "audit_log",
    "queue",
    "request_action",
    "request_detail",
    "request_new",
]
