"""Routes of the consent API under /api/v1/."""

from django.urls import path

from consent.api import views

urlpatterns = [
    path("consent/events/", views.ConsentEventsView.as_view(), name="consent-events"),
    path("consent/check/", views.ConsentCheckView.as_view(), name="consent-check"),
    path("consent/ping/", views.ConsentPingView.as_view(), name="consent-ping"),
    path("consent/gpc/", views.ConsentGpcView.as_view(), name="consent-gpc"),
    path("consent/purposes/", views.PurposeListView.as_view(), name="consent-purposes"),
    path(
        "subjects/<uuid:id>/consents/",
        views.SubjectConsentsView.as_view(),
        name="subject-consents",
    ),
    path(
        "subjects/<uuid:id>/consent-receipt/",
        views.SubjectConsentReceiptView.as_view(),
        name="subject-consent-receipt",
    ),
]
