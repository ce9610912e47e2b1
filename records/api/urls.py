"""Routes of the records-of-processing API under /api/v1/."""

from django.urls import path

from records.api import views

urlpatterns = [
    path(
        "records-of-processing/",
        views.RecordView.as_view(),
        name="records-of-processing",
    ),
    path(
        "records-of-processing/export.csv",
        views.RecordCsvView.as_view(),
        name="records-of-processing-csv",
    ),
]
