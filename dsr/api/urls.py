"""Routes of the requests API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from dsr.api.views import RequestViewSet

# SimpleRouter: no API root view, which would need a scope of its own and
# would collide with the other apps mounted at /api/v1/.
router = SimpleRouter()
router.register("requests", RequestViewSet, basename="request")

urlpatterns = router.urls
