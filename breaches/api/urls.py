"""Routes of the breach register API under /api/v1/breaches/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from breaches.api.views import BreachEvidencePackView, BreachViewSet

# SimpleRouter: no API root view (see dsr.api.urls).
router = SimpleRouter()
router.register("breaches", BreachViewSet, basename="breach")

urlpatterns = [
    path(
        "breaches/<str:id>/evidence.pdf",
        BreachEvidencePackView.as_view(),
        name="breach-evidence-pdf",
    ),
    *router.urls,
]
