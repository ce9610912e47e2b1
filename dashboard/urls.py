from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<uuid:public_id>/", views.request_detail, name="request_detail"),
    path(
        "requests/<uuid:public_id>/<slug:action>/",
        views.request_action,
        name="request_action",
    ),
    path(
        "requests/<uuid:public_id>/tasks/<uuid:task_id>/<slug:action>/",
        views.task_action,
        name="task_action",
    ),
    path("audit/", views.audit_log, name="audit_log"),
    path("api-clients/", views.api_clients, name="api_clients"),
    path(
        "api-clients/<uuid:public_id>/revoke/",
        views.api_client_revoke_view,
        name="api_client_revoke",
    ),
    path("connectors/", views.connector_list_view, name="connector_list"),
    path("connectors/new/", views.connector_new, name="connector_new"),
    path(
        "connectors/<uuid:public_id>/",
        views.connector_detail,
        name="connector_detail",
    ),
    path(
        "connectors/<uuid:public_id>/edit/",
        views.connector_edit,
        name="connector_edit",
    ),
    path(
        "connectors/<uuid:public_id>/test/",
        views.connector_check,
        name="connector_check",
    ),
    path(
        "connectors/<uuid:public_id>/enable/",
        views.connector_enable,
        name="connector_enable",
    ),
]
