from django.urls import path

from dashboard import views
from dashboard.views import reports as reports_views

app_name = "dashboard"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue.csv", views.queue_csv, name="queue_csv"),
    path("reports/", reports_views.reports, name="reports"),
    path("reports/ccpa/", reports_views.ccpa_report, name="ccpa_report"),
    path("reports/ccpa.csv", reports_views.ccpa_report_csv, name="ccpa_report_csv"),
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
        "requests/<uuid:public_id>/package-review.zip",
        views.request_package_review,
        name="request_package_review",
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
    path("audit.csv", views.audit_log_csv, name="audit_log_csv"),
    path("training/", views.training_datasets, name="training_datasets"),
    path("api-clients/", views.api_clients, name="api_clients"),
    path(
        "api-clients/<uuid:public_id>/revoke/",
        views.api_client_revoke_view,
        name="api_client_revoke",
    ),
    path("connectors/", views.connector_list_view, name="connector_list"),
    path("connectors/new/", views.connector_new, name="connector_new"),
    path("connectors/discover/", views.discovery_new, name="discovery_new"),
    path(
        "connectors/discover/<uuid:public_id>/",
        views.discovery_detail,
        name="discovery_detail",
    ),
    path(
        "connectors/<uuid:public_id>/rescan/",
        views.connector_rescan_view,
        name="connector_rescan",
    ),
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
        "retention/policies/<uuid:public_id>/confirm/",
        views.retention_policy_confirm,
        name="retention_policy_confirm",
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

# Recipients told of a change (GDPR Art. 19): an officer's manual step.
from dashboard.views import recipients as recipient_views  # noqa: E402

urlpatterns += [
    path(
        "requests/<uuid:public_id>/recipients/<uuid:notification_id>/<slug:status>/",
        recipient_views.recipient_mark,
        name="recipient_mark",
    ),
]

# An authorised agent's written authority (CCPA-REG §7063): officers only.
from dashboard.views import agents as agent_views  # noqa: E402

urlpatterns += [
    path(
        "requests/<uuid:public_id>/agent/permission/",
        agent_views.agent_permission_upload,
        name="agent_permission_upload",
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
        "consent/purposes/<slug:slug>/links/",
        consent_views.consent_link_save,
        name="consent_link_save",
    ),
    path(
        "consent/purposes/<slug:slug>/links/<slug:connector>/remove/",
        consent_views.consent_link_remove,
        name="consent_link_remove",
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

# Staff security (dashboard/views/security.py, access_reviews.py): the
# sign-in's second step, enrolment, sessions, and access reviews.
from dashboard.views import access_reviews as review_views  # noqa: E402
from dashboard.views import security as security_views  # noqa: E402

urlpatterns += [
    path("login/verify/", security_views.mfa_verify, name="mfa_verify"),
    path("account/mfa/enrol/", security_views.mfa_enrol, name="mfa_enrol"),
    path(
        "account/security/",
        security_views.account_security,
        name="account_security",
    ),
    path(
        "account/security/recovery-codes/",
        security_views.recovery_codes_new,
        name="recovery_codes_new",
    ),
    path(
        "account/security/logout-everywhere/",
        security_views.logout_everywhere,
        name="logout_everywhere",
    ),
    path("staff/", security_views.staff_security, name="staff_security"),
    path(
        "staff/<int:user_id>/reset-mfa/",
        security_views.staff_mfa_reset_view,
        name="staff_mfa_reset",
    ),
    path("access-reviews/", review_views.access_reviews, name="access_reviews"),
    path(
        "access-reviews/<uuid:public_id>/",
        review_views.access_review_detail,
        name="access_review_detail",
    ),
    path(
        "access-reviews/<uuid:public_id>/items/<uuid:item_id>/<slug:decision>/",
        review_views.access_review_decide,
        name="access_review_decide",
    ),
    path(
        "access-reviews/<uuid:public_id>/sign/",
        review_views.access_review_sign_view,
        name="access_review_sign",
    ),
    path(
        "access-reviews/<uuid:public_id>/evidence.pdf",
        review_views.access_review_evidence_pdf,
        name="access_review_evidence_pdf",
    ),
]

# Records of processing (dashboard/views/records.py): the record, the data
# map, the officer's part and the exports.
from dashboard.views import records as records_views  # noqa: E402

urlpatterns += [
    path("records/", records_views.records_overview, name="records"),
    path("records/data-map/", records_views.records_data_map, name="records_data_map"),
    path(
        "records/export.pdf",
        records_views.records_export_pdf,
        name="records_export_pdf",
    ),
    path(
        "records/export.csv",
        records_views.records_export_csv,
        name="records_export_csv",
    ),
    path(
        "records/controller/",
        records_views.records_controller_edit,
        name="records_controller_edit",
    ),
    path(
        "records/activities/new/",
        records_views.records_activity_edit,
        name="records_activity_new",
    ),
    path(
        "records/activities/<uuid:public_id>/",
        records_views.records_activity_edit,
        name="records_activity_edit",
    ),
    path(
        "records/activities/<uuid:public_id>/delete/",
        records_views.records_activity_delete,
        name="records_activity_delete",
    ),
    path(
        "records/recipients/new/",
        records_views.records_recipient_edit,
        name="records_recipient_new",
    ),
    path(
        "records/recipients/<uuid:public_id>/",
        records_views.records_recipient_edit,
        name="records_recipient_edit",
    ),
    path(
        "records/recipients/<uuid:public_id>/delete/",
        records_views.records_recipient_delete,
        name="records_recipient_delete",
    ),
]

# Anomaly alerts (dashboard/views/alerts.py): open first, acknowledged with a
# note.
from dashboard.views import alerts as alert_views  # noqa: E402

urlpatterns += [
    path("alerts/", alert_views.alert_list_view, name="alert_list"),
    path(
        "alerts/<uuid:public_id>/acknowledge/",
        alert_views.alert_acknowledge_view,
        name="alert_acknowledge",
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
