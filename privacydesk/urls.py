from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from consent.api.views import gpc_support
from privacydesk.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/privacy/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path(".well-known/gpc.json", gpc_support, name="gpc-support"),
    path("admin/", admin.site.urls),
    path("privacy/", include("portal.urls")),
    path("dashboard/", include("dashboard.urls")),
    # The masking gateway first: an AI agent calls it on every turn, and
    # each include tried before it costs every call a few patterns.
    path("api/v1/", include("masking.api.urls")),
    path("api/v1/", include("dsr.api.urls")),
    path("api/v1/", include("evidence.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("consent.api.urls")),
    path("api/v1/", include("connectors.api.urls")),
    path("api/v1/", include("dsr.api.agent_urls")),
    path("api/v1/", include("consent.api.agent_urls")),
    path("api/v1/", include("retention.api.urls")),
    path("api/v1/", include("training.api.urls")),
    path("api/v1/", include("breaches.api.urls")),
    path("opendsr/v1/", include("opendsr.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"
    ),
]

# An unknown URL under /api/ answers JSON like every other API error.
handler404 = "privacydesk.api_defaults.not_found"
