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
        "requests/<uuid:public_id>/evidence.pdf",
        views.request_evidence_pdf,
        name="request_evidence_pdf",
    ),
    path(
        "requests/<uuid:public_id>/evidence-internal.pdf",
        views.request_evidence_internal_pdf,
        name="request_evidence_internal_pdf",
    ),
    path(
        "requests/<uuid:public_id>/letter.pdf",
        views.request_letter_pdf,
        name="request_letter_pdf",
    ),
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
    path("training/", views.training_datasets, name="training_datasets"),
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
    path("retention/", views.retention_policies, name="retention_policies"),
    path(
        "retention/policies/new/",
        views.retention_policy_new,
        name="retention_policy_new",
    ),
    path(
        "retention/policies/<uuid:public_id>/edit/",
        views.retention_policy_edit,
        name="retention_policy_edit",
    ),
    path(
        "retention/policies/<uuid:public_id>/run/",
        views.retention_policy_run,
        name="retention_policy_run",
    ),
    path("retention/holds/", views.retention_holds, name="retention_holds"),
    path(
        "retention/holds/<uuid:public_id>/release/",
        views.retention_hold_release,
        name="retention_hold_release",
    ),
    path("retention/runs/", views.retention_runs, name="retention_runs"),
    path(
        "retention/runs/<uuid:public_id>/",
        views.retention_run_detail,
        name="retention_run_detail",
    ),
    path(
        "retention/runs/<uuid:public_id>/evidence.pdf",
        views.run_evidence_pdf,
        name="retention_run_evidence_pdf",
    ),
    path(
        "retention/runs/<uuid:public_id>/resume/",
        views.retention_run_resume,
        name="retention_run_resume",
    ),
]

# Consent (dashboard/views/consent.py): purposes, wording, rates, histories,
# withdrawals sent to stores.
from dashboard.views import consent as consent_views  # noqa: E402

urlpatterns += [
    path("consent/", consent_views.consent_purposes, name="consent_purposes"),
    path(
        "consent/purposes/<slug:slug>/publish/",
        consent_views.consent_policy_publish,
        name="consent_policy_publish",
    ),
    path(
        "consent/subjects/",
        consent_views.consent_subject_search,
        name="consent_subject_search",
    ),
    path(
        "consent/subjects/<uuid:public_id>/",
        consent_views.consent_subject,
        name="consent_subject",
    ),
    path(
        "consent/propagations/",
        consent_views.consent_propagations,
        name="consent_propagations",
    ),
    path(
        "consent/propagations/<uuid:public_id>/retry/",
        consent_views.consent_propagation_retry,
        name="consent_propagation_retry",
    ),
]

# The breach register (dashboard/views/breaches.py): GDPR Art. 33 and 34.
from dashboard.views import breaches as breach_views  # noqa: E402

urlpatterns += [
    path("breaches/", breach_views.breach_register, name="breach_register"),
    path("breaches/new/", breach_views.breach_new, name="breach_new"),
    path(
        "breaches/<uuid:public_id>/", breach_views.breach_detail, name="breach_detail"
    ),
    path(
        "breaches/<uuid:public_id>/edit/", breach_views.breach_edit, name="breach_edit"
    ),
    path(
        "breaches/<uuid:public_id>/decide/",
        breach_views.breach_decide,
        name="breach_decide",
    ),
    path(
        "breaches/<uuid:public_id>/notify/",
        breach_views.breach_notify,
        name="breach_notify",
    ),
    path(
        "breaches/<uuid:public_id>/notices/",
        breach_views.breach_notices_new,
        name="breach_notices_new",
    ),
    path(
        "breaches/<uuid:public_id>/notices/<uuid:notice_id>/retry/",
        breach_views.breach_notice_retry_view,
        name="breach_notice_retry",
    ),
    path(
        "breaches/<uuid:public_id>/close/",
        breach_views.breach_close_view,
        name="breach_close",
    ),
    path(
        "breaches/<uuid:public_id>/evidence.pdf",
        breach_views.breach_evidence_pdf,
        name="breach_evidence_pdf",
    ),
]
