"""The demo's training data: a support-conversation dataset in two versions,
so the dashboard's Training data page shows both states.

Version 2026-10 holds the first 300 demo helpdesk customers' AI
conversations (the demo store's `ai_conversations` ids) and their e-mails'
export indexes, and also the demo requesters who asked for erasure or
objected: it must be rebuilt. Version 2026-11 is that rebuild, without them.
Idempotent: an existing version is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.actors import actor_system
from connectors.demo.content import customer
from dsr.models import Request
from subjects.selectors import subjects_identity
from training.keys import export_index
from training.models import Dataset
from training.services.datasets import dataset_register
from training.services.triggers import REASONS, exclusions_sync

DEMO_DATASET = "support-conversations"
DEMO_CUSTOMERS = 300
ACTOR = actor_system("seed_demo")


@dataclass(frozen=True)
class TrainingDemo:
    registered: list[str]
    existing: int


def training_demo_seed() -> TrainingDemo:
    """Register the demo dataset's versions that are missing."""
    exclusions_sync()  # the demo's verified erasures and objections
    customers = [customer(number) for number in range(1, DEMO_CUSTOMERS + 1)]
    conversations = [str(person.id * 10) for person in customers]
    indexes = [export_index("email", person.email) for person in customers]
    asked = Request.objects.filter(kind__in=list(REASONS), verified_at__isnull=False)
    identity = subjects_identity(subject_ids=asked.values_list("subject_id", flat=True))
    requesters = [export_index("email", email) for email in identity.emails]
    versions = {
        "2026-10": indexes + requesters,
        "2026-11": indexes,
    }
    registered: list[str] = []
    for version, held in versions.items():
        if Dataset.objects.filter(name=DEMO_DATASET, version=version).exists():
            continue
        dataset_register(
            actor=ACTOR,
            name=DEMO_DATASET,
            version=version,
            conversation_ids=conversations,
            blind_indexes=held,
        )
        registered.append(version)
    return TrainingDemo(registered, len(versions) - len(registered))
