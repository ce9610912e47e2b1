"""Training data: the datasets pipelines registered, which must be rebuilt
before the next training run, and how many people are excluded."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.actors import Actor
from dashboard.views.common import page, staff_view
from training.selectors import dataset_list, datasets_latest, exclusion_counts

DATASETS_PER_PAGE = 50


@require_GET
@staff_view
def training_datasets(request: HttpRequest, actor: Actor) -> HttpResponse:
    datasets = dataset_list(actor=actor)
    page_obj = Paginator(datasets, DATASETS_PER_PAGE).get_page(request.GET.get("page"))
    latest = set(datasets_latest(names=[d.name for d in page_obj]).values())
    rows = [
        {
            "dataset": dataset,
            "latest": dataset.pk in latest,
            "rebuilds": list(dataset.rebuilds.all()),
        }
        for dataset in page_obj
    ]
    return page(
        request,
        actor,
        "dashboard/training_datasets.html",
        {
            "section": "training",
            "page_obj": page_obj,
            "rows": rows,
            "must_rebuild": sum(
                bool(row["rebuilds"]) and row["latest"] for row in rows
            ),
            "counts": exclusion_counts(),
        },
    )
