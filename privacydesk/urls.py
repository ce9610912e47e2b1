from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from privacydesk.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/privacy/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("privacy/", include("portal.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/", include("dsr.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
