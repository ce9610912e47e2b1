"""Routes of the training API under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from training.api import views

# SimpleRouter: no API root view (see dsr.api.urls).
router = SimpleRouter()
router.register("datasets", views.DatasetViewSet, basename="training-dataset")

urlpatterns = [
    path(
        "training-exclusions/",
        views.ExclusionFeedView.as_view(),
        name="training-exclusions",
    ),
    path(
        "training-exclusions/key/",
        views.ExportKeyView.as_view(),
        name="training-exclusions-key",
    ),
    path(
        "training-exclusions/export.csv",
        views.ExportCsvView.as_view(),
        name="training-exclusions-csv",
    ),
    path(
        "training-exclusions/export.jsonl",
        views.ExportJsonlView.as_view(),
        name="training-exclusions-jsonl",
    ),
    *router.urls,
]
