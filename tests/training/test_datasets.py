"""Datasets as records: an exclusion marks every version holding the subject
"must be rebuilt"; a new version without them is clear; the evidence pack
and the dashboard show it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from accounts.actors import actor_system
from audit.models import AuditEvent
from dsr.models import Request
from dsr.services.requests import request_close
from evidence.services import evidence_pack_generate
from subjects.models import SubjectConversation
from tests.evidence.pack_helpers import embedded, flat_text, shows
from tests.training.conftest import JAMES, MARIA, recipe_index
from training.models import DatasetRebuild
from training.selectors import training_pack_facts

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


def _register(pipeline: APIClient, version: str, **members: Any) -> dict[str, Any]:
    body = {"name": "support-chats", "version": version} | members
    answer = pipeline.post("/api/v1/datasets/", body, format="json")
    assert answer.status_code == 201, answer.content
    return dict(answer.json())


def _get(pipeline: APIClient, made: dict[str, Any]) -> dict[str, Any]:
    return dict(pipeline.get(f"/api/v1/datasets/{made['id']}/").json())


def _index(pipeline: APIClient, kind: str, value: str) -> str:
    key = pipeline.get("/api/v1/training-exclusions/key/").json()["key"]
    return recipe_index(key, kind, value)


def test_erasure_marks_the_datasets_holding_the_subject_and_the_pack_shows_it(
    pipeline: APIClient, verified: Callable[..., Request]
) -> None:
    # given two versions holding Maria by her phone's index, one without her
    maria = _index(pipeline, "phone", MARIA["phone"])
    other = _index(pipeline, "email", JAMES["email"])
    old = _register(pipeline, "2026-10", blind_indexes=[maria, other])
    held = _register(pipeline, "2026-11", blind_indexes=[maria])
    clear = _register(pipeline, "1", blind_indexes=[other], name="voice-transcripts")
    # when Maria's erasure is verified
    request = verified("erasure", MARIA)
    # then both versions holding her must be rebuilt, and say why
    for made in (old, held):
        got = _get(pipeline, made)
        assert got["must_rebuild"] is True
        [rebuild] = got["rebuilds"]
        assert rebuild["reason"] == "erasure"
    assert _get(pipeline, clear)["must_rebuild"] is False
    flagged = AuditEvent.objects.filter(action="training.dataset_must_rebuild")
    assert sorted(e.data["version"] for e in flagged) == ["2026-10", "2026-11"]
    # and when the request closes, its evidence pack has a Training data section
    request_close(actor=SYSTEM, request=request, outcome="completed", notice=None)
    result = evidence_pack_generate(actor=SYSTEM, request=request)
    flat = flat_text(result.content)
    for phrase in ("Training data", "support-chats 2026-11", "Must be rebuilt"):
        assert shows(flat, phrase), phrase
    training = embedded(result.content)["facts"]["training"]
    assert training["exclusion"]["reason"] == "erasure"
    assert training["exclusion"]["blind_indexes"] == 2
    assert [(d["version"], d["rebuilt"]) for d in training["datasets"]] == [
        ("2026-10", False),
        ("2026-11", False),
    ]
    assert maria not in str(training)
    # a version registered later without her is the rebuild of both
    _register(pipeline, "2026-12", blind_indexes=[other])
    later = training_pack_facts(request=request)
    assert later is not None
    assert [d["rebuilt"] for d in later["datasets"]] == [True, True]


def test_a_new_version_still_holding_an_excluded_subject_is_marked_at_once(
    pipeline: APIClient, verified: Callable[..., Request]
) -> None:
    verified("objection", MARIA)
    maria = _index(pipeline, "email", "maria.okafor@example.org")
    made = _register(pipeline, "2", blind_indexes=[maria])
    assert made["must_rebuild"] is True
    assert made["rebuilds"][0]["reason"] == "objection"


def test_a_conversation_owner_links_the_conversation_to_a_known_subject(
    pipeline: APIClient,
    make_request: Callable[..., Request],
    verified: Callable[..., Request],
) -> None:
    # given James is known here; the pipeline says conv-4410 is his
    james = make_request(identity=JAMES).subject
    made = _register(
        pipeline,
        "1",
        conversation_ids=["conv-4410", "conv-4411"],
        conversation_owners=[
            {"conversation_id": "conv-4410", "identity": JAMES},
            {"conversation_id": "conv-4411", "identity": {"email": "x@example.org"}},
        ],
    )
    assert made["must_rebuild"] is False
    # only the known person's conversation is recorded
    rows = SubjectConversation.objects.values_list("subject_id", "conversation_id")
    assert list(rows) == [(james.pk, "conv-4410")]
    # when James asks for erasure, the dataset is marked through the conversation
    verified("erasure", JAMES)
    assert _get(pipeline, made)["must_rebuild"] is True
    entry = pipeline.get("/api/v1/training-exclusions/").json()["results"][0]
    assert entry["conversation_ids"] == ["conv-4410"]


def test_a_consent_withdrawal_marks_datasets_and_a_grant_leaves_the_mark(
    pipeline: APIClient,
    make_request: Callable[..., Request],
    choose: Callable[..., Any],
) -> None:
    subject = make_request(identity=JAMES).subject
    made = _register(
        pipeline, "1", blind_indexes=[_index(pipeline, "email", JAMES["email"])]
    )
    choose(subject, "ai_training", False)
    assert _get(pipeline, made)["must_rebuild"] is True
    # built while he was excluded: granting again does not make it clean
    choose(subject, "ai_training", True)
    assert _get(pipeline, made)["must_rebuild"] is True
    assert DatasetRebuild.objects.count() == 1


def test_the_dashboard_lists_datasets_their_state_and_the_exclusions(
    pipeline: APIClient,
    verified: Callable[..., Request],
    officer: User,
    agent: User,
) -> None:
    client = Client()
    client.force_login(officer)
    # empty state first
    empty = client.get("/dashboard/training/").content.decode()
    assert "No datasets registered yet" in empty
    assert 'href="/dashboard/training/"' in empty  # in the navigation
    # given a marked version and a clear one
    maria = _index(pipeline, "email", MARIA["email"])
    _register(pipeline, "2026-11", blind_indexes=[maria])
    verified("erasure", MARIA)
    _register(pipeline, "2026-12", conversation_ids=["conv-1"])
    # when
    page = client.get("/dashboard/training/").content.decode()
    # then
    assert 'data-count="active"><strong>1</strong>' in page
    assert 'data-count="erasure">1<' in page
    marked = page.split('data-dataset="support-chats:2026-11"')[1].split("</tr>")[0]
    assert "Must be rebuilt" in marked
    assert "a newer version is registered" in marked
    latest = page.split('data-dataset="support-chats:2026-12"')[1].split("</tr>")[0]
    assert "Clear" in latest
    assert "okafor" not in page.lower()
    # a support agent has neither the page nor the link
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/dashboard/training/").status_code == 403
    assert (
        "/dashboard/training/" not in agent_client.get("/dashboard/").content.decode()
    )
