"""Routes of the evidence-pack downloads under /api/v1/."""

from django.urls import path

from evidence.api.views import RequestEvidencePackView, RunEvidencePackView

urlpatterns = [
    path(
        "requests/<str:id>/evidence.pdf",
        RequestEvidencePackView.as_view(),
        name="request-evidence-pdf",
    ),
    path(
        "retention/runs/<str:id>/evidence.pdf",
        RunEvidencePackView.as_view(),
        name="retention-run-evidence-pdf",
    ),
]
