"""Routes of the retention API under /api/v1/retention/."""

from rest_framework.routers import SimpleRouter

from retention.api.views import HoldViewSet, PolicyViewSet, RunViewSet

# SimpleRouter: no API root view (see dsr.api.urls).
router = SimpleRouter()
router.register("retention/policies", PolicyViewSet, basename="retention-policy")
router.register("retention/runs", RunViewSet, basename="retention-run")
router.register("retention/holds", HoldViewSet, basename="retention-hold")

urlpatterns = router.urls
