"""Access-package fixtures: real connectors, real JSON-lines results in storage."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from connectors.models import Connector
from dsr.models import AccessPackage, Request, RequestTask

HELPDESK_DISCLOSURE: dict[str, Any] = {
    "purposes": [
        "Answering your support questions",
        {
            "purpose": "Improving the quality of our answers",
            "legal_basis": "legitimate interests, Art. 6(1)(f)",
        },
    ],
    "recipients": [
        {"name": "Helpdesk Cloud Ltd", "role": "processor", "country": "Ireland"},
        {
            "category": "parcel couriers",
            "reason": "impossible",
            "explanation": "the warehouse picks a courier per parcel",
        },
    ],
    "retention": "Three years after your last ticket",
    "source": "You, when you wrote to our support team",
    "automated_decision_making": {
        "not_applicable": "no decision about you is made solely by automated means"
    },
    "transfers": [
        {
            "country": "United States",
            "recipient": "Helpdesk Cloud Ltd",
            "safeguards": "EU Standard Contractual Clauses (2021/914)",
        }
    ],
}

ASSISTANT_DISCLOSURE: dict[str, Any] = {
    "purposes": ["Answering you with our AI assistant"],
    "recipients": ["Model Hosting GmbH (processor)"],
    "retention": "90 days after the conversation",
    "source": "You, in the chat window",
    "automated_decision_making": [
        {
            "activity": "Refund triage",
            "logic": "A score from order value and past refunds decides auto-approval",
            "significance": "Small refunds are approved without a person",
            "consequences": "A refund may be refused until a person reviews it",
        }
    ],
    "transfers": {"not_applicable": "the data stays in the EU"},
}

HELPDESK_RECORDS: list[dict[str, Any]] = [
    {
        "location": "customers",
        "key": "17",
        "category": "contact",
        "data": {"id": 17, "email": "ada.lovelace@example.com", "name": "Ada"},
    },
    {
        "location": "tickets",
        "key": "301",
        "category": "support_ticket",
        "data": {"id": 301, "subject": "Where is my order?", "customer_id": 17},
    },
    {
        "location": "tickets",
        "key": "302",
        "category": "support_ticket",
        "data": {"id": 302, "subject": "Refund", "priority": "high"},
    },
    {
        "location": "messages",
        "key": "9001",
        "category": "support_ticket",
        "data": {"id": 9001, "body": '=HYPERLINK("http://x")', "ticket_id": 301},
    },
]

ASSISTANT_RECORDS: list[dict[str, Any]] = [
    {
        "location": "ai_conversations",
        "key": "c-1",
        "category": "ai_conversation",
        "data": {"id": "c-1", "turns": [{"role": "user", "text": "Hi, é ü"}]},
    },
    {
        "location": "ai_conversations",
        "key": "c-2",
        "category": "ai_conversation",
        "data": {"id": "c-2", "turns": [], "rating": None, "helpful": True},
    },
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Each test gets its own storage folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # the portal's rate-limit counters
    yield
    cache.clear()


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    """The executor's result format (dsr.services.execution.running.JsonlSink)."""
    return b"".join(
        (json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n").encode()
        for r in records
    )


def add_task(
    request: Request,
    connector: Connector,
    *,
    content: bytes | None = None,
    status: str = "succeeded",
    exemptions: list[dict[str, Any]] | None = None,
) -> RequestTask:
    """A finished access task whose JSON-lines result sits in storage."""
    task = RequestTask.objects.create(
        request=request,
        connector=connector,
        action="access",
        status=status,
        finished_at=timezone.now(),
        exemptions=exemptions or [],
    )
    if content is not None:
        name = default_storage.save(
            f"dsr/{request.public_id}/{task.public_id}.jsonl", ContentFile(content)
        )
        task.result_file = name
        task.result_digest = hashlib.sha256(content).hexdigest()
        task.records_found = content.count(b"\n")
        task.save()
    return task


@pytest.fixture
def make_connector(db: Any) -> Callable[..., Connector]:
    def make(name: str, disclosure: dict[str, Any], categories: list[str]) -> Connector:
        return Connector.objects.create(
            name=name,
            kind="manual",
            config={},
            data_categories=categories,
            disclosure=copy.deepcopy(disclosure),
        )

    return make


@pytest.fixture
def answered_request(
    make_request: Callable[..., Request], make_connector: Callable[..., Connector]
) -> Callable[..., Request]:
    """answered_request(kind=...) -> an in-progress request whose two access
    tasks (helpdesk, assistant) have finished with real result files."""

    def make(kind: str = "access", **disclosure_changes: Any) -> Request:
        # The request first: with no connector yet, nothing is fanned out,
        # and the tasks below are the finished work of two stores.
        request = make_request(kind=kind, verified=True)
        helpdesk = make_connector(
            "helpdesk",
            {**HELPDESK_DISCLOSURE, **disclosure_changes},
            ["contact", "support_ticket"],
        )
        assistant = make_connector(
            "assistant", ASSISTANT_DISCLOSURE, ["ai_conversation"]
        )
        add_task(request, helpdesk, content=jsonl(HELPDESK_RECORDS))
        add_task(request, assistant, content=jsonl(ASSISTANT_RECORDS))
        return request

    return make


def open_package(package: AccessPackage) -> zipfile.ZipFile:
    with default_storage.open(package.file, "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def stored_packages(media: Path) -> list[Path]:
    return sorted((media / "access-packages").rglob("*.zip"))
