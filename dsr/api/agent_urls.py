"""Routes of the request jobs' pull-agent API and webhook callback under
/api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from dsr.api.agent_views import AgentJobViewSet, ConnectorCallbackView

router = SimpleRouter()
router.register("agent/jobs", AgentJobViewSet, basename="agent-job")

urlpatterns = [
    *router.urls,
    path(
        "connector-callbacks/<str:task_id>/",
        ConnectorCallbackView.as_view(),
        name="connector-callback",
    ),
]
