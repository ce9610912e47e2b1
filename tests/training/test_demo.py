"""The demo's training dataset: two versions, the older one to rebuild."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from training.demo import DEMO_DATASET
from training.models import Dataset, DatasetRebuild, TrainingExclusion

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_dataset_with_a_version_to_rebuild() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert f"Training dataset {DEMO_DATASET}: registered 2026-10, 2026-11" in (
        out.getvalue()
    )
    old, new = Dataset.objects.filter(name=DEMO_DATASET).order_by("version")
    assert (old.conversation_count, new.conversation_count) == (300, 300)
    # the demo's verified erasures and objections are excluded, and the older
    # version, which holds those requesters, must be rebuilt
    excluded = TrainingExclusion.objects.filter(reason__in=["erasure", "objection"])
    assert excluded.count() >= 2
    assert DatasetRebuild.objects.filter(dataset=old).count() == excluded.count()
    assert not DatasetRebuild.objects.filter(dataset=new).exists()
    # seeding again changes nothing
    call_command("seed_demo", stdout=StringIO())
    assert Dataset.objects.filter(name=DEMO_DATASET).count() == 2
    assert DatasetRebuild.objects.count() == excluded.count()
