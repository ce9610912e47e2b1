"""Routes of the breach register API under /api/v1/breaches/."""

from rest_framework.routers import SimpleRouter

from breaches.api.views import BreachViewSet

# SimpleRouter: no API root view (see dsr.api.urls).
router = SimpleRouter()
router.register("breaches", BreachViewSet, basename="breach")

urlpatterns = router.urls
