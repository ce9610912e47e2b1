"""Routes of the masking API under /api/v1/."""

from django.urls import path

from masking.api import views

urlpatterns = [
    path("redact/", views.RedactView.as_view(), name="masking-redact"),
    path("restore/", views.RestoreView.as_view(), name="masking-restore"),
]
