"""Routes of consent withdrawals for pull agents and webhook callbacks."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from consent.api.agent_views import ConsentAgentJobViewSet, ConsentCallbackView

router = SimpleRouter()
router.register(
    "agent/consent-jobs", ConsentAgentJobViewSet, basename="agent-consent-job"
)

urlpatterns = [
    *router.urls,
    path(
        "connector-callbacks/consent/<str:propagation_id>/",
        ConsentCallbackView.as_view(),
        name="consent-propagation-callback",
    ),
]
