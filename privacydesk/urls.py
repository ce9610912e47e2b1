from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from consent.api.views import gpc_support
from privacydesk.health import healthz

urlpatterns = [
    # The masking gateway first: an AI agent calls it on every turn, and
    # each include tried before it costs every call a failed match (the
    # prefixes never overlap, so the order changes no resolution).
    path("api/v1/", include("masking.api.urls")),
    path("", RedirectView.as_view(url="/privacy/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path(".well-known/gpc.json", gpc_support, name="gpc-support"),
    # One staff sign-in (audited, lockout, second factor): the dashboard's.
    path(
        "admin/login/",
        RedirectView.as_view(url=reverse_lazy("dashboard:login"), query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("privacy/", include("portal.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/", include("dsr.api.urls")),
    path("api/v1/", include("evidence.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("consent.api.urls")),
    path("api/v1/", include("connectors.api.urls")),
    path("api/v1/", include("dsr.api.agent_urls")),
    path("api/v1/", include("consent.api.agent_urls")),
    path("api/v1/", include("retention.api.urls")),
    path("api/v1/", include("training.api.urls")),
    path("api/v1/", include("records.api.urls")),
    path("api/v1/", include("breaches.api.urls")),
    path("opendsr/v1/", include("opendsr.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"
    ),
]

# Errors answer JSON under /api/ like every other API error, and a styled
# page in the portal and the dashboard (privacydesk.error_pages).
handler400 = "privacydesk.error_pages.bad_request"
handler403 = "privacydesk.error_pages.permission_denied"
handler404 = "privacydesk.error_pages.not_found"
handler500 = "privacydesk.error_pages.server_error"
