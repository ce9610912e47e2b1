"""Routes of the connectors API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from connectors.api.views import ConnectorViewSet

# SimpleRouter: no API root view (see dsr.api.urls).
router = SimpleRouter()
router.register("connectors", ConnectorViewSet, basename="connector")

urlpatterns = router.urls
