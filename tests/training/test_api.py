"""The training API the way a pipeline calls it: the feed and its cursor,
the export key and file, registering and reading datasets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiClient
from audit.models import AuditEvent
from dsr.models import Request
from tests.training.conftest import JAMES, MARIA, recipe_index
from training.models import Dataset, DatasetMember, ExclusionEntry

pytestmark = pytest.mark.django_db
FEED = "/api/v1/training-exclusions/"
PEOPLE = [
    {"email": f"{first}.{last}@example.net"}
    for first, last in (
        ("aisha", "bello"),
        ("lukas", "brandt"),
        ("sofia", "marino"),
        ("chen", "wei"),
        ("ingrid", "dahl"),
    )
]


def _key(pipeline: APIClient) -> str:
    answer = pipeline.get(f"{FEED}key/")
    assert answer.status_code == 200, answer.content
    return str(answer.json()["key"])


def test_the_feed_lists_exclusions_by_index_never_by_identity(
    pipeline: APIClient, verified: Callable[..., Request]
) -> None:
    request = verified("erasure", MARIA)
    # when
    answer = pipeline.get(FEED)
    # then
    assert answer.status_code == 200
    body = answer.json()
    [entry] = body["results"]
    key = _key(pipeline)
    assert entry["action"] == "excluded"
    assert entry["reason"] == "erasure"
    assert entry["blind_indexes"] == sorted(
        [
            recipe_index(key, "email", "  maria.okafor@EXAMPLE.org "),
            recipe_index(key, "phone", "+44 (20) 7946-0123"),
        ]
    )
    assert body["next_since"] == entry["cursor"]
    assert body["has_more"] is False
    assert "okafor" not in answer.content.decode().lower()
    assert str(request.subject.public_id) not in answer.content.decode()


def test_following_the_cursor_misses_and_repeats_nothing(
    pipeline: APIClient, verified: Callable[..., Request]
) -> None:
    # given three exclusions
    for person in PEOPLE[:3]:
        verified("erasure", person)
    seen: list[int] = []
    since = 0
    # when the pipeline reads two at a time, and more arrive between pages
    first = pipeline.get(FEED, {"since": since, "limit": 2}).json()
    seen += [entry["cursor"] for entry in first["results"]]
    assert first["has_more"] is True
    since = first["next_since"]
    for person in PEOPLE[3:]:
        verified("objection", person)
    while True:
        page = pipeline.get(FEED, {"since": since, "limit": 2}).json()
        seen += [entry["cursor"] for entry in page["results"]]
        since = page["next_since"]
        if not page["has_more"]:
            break
    # then every entry once, in order
    every = list(ExclusionEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(every) == 5
    assert seen == every
    # and reading again from the end returns nothing, the cursor unchanged
    again = pipeline.get(FEED, {"since": since}).json()
    assert again["results"] == []
    assert again["next_since"] == since


def test_a_lifted_exclusion_is_its_own_entry_in_the_feed(
    pipeline: APIClient,
    make_request: Callable[..., Request],
    choose: Callable[..., Any],
) -> None:
    subject = make_request(identity=JAMES).subject
    choose(subject, "ai_training", False)
    since = pipeline.get(FEED).json()["next_since"]
    choose(subject, "ai_training", True)
    [lifted] = pipeline.get(FEED, {"since": since}).json()["results"]
    assert lifted["action"] == "lifted"
    assert lifted["reason"] == "consent_withdrawn"
    assert lifted["cursor"] > since


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "-1"}, "since"),
        ({"since": "abc"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_400_naming_it(
    pipeline: APIClient, query: dict[str, str], field: str
) -> None:
    answer = pipeline.get(FEED, query)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


@pytest.mark.parametrize(
    "path",
    [
        FEED,
        f"{FEED}key/",
        f"{FEED}export.csv",
        f"{FEED}export.jsonl",
        "/api/v1/datasets/",
    ],
)
def test_reading_needs_the_training_read_scope(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]], path: str
) -> None:
    _, other = make_api_client("requests:read", "training:write")
    audited = AuditEvent.objects.count()
    assert other.get(path).status_code == 403
    assert APIClient().get(path).status_code == 401
    assert AuditEvent.objects.count() == audited  # no key handed out


def test_the_key_read_is_audited_and_is_not_the_lookup_key(
    pipeline: APIClient, settings: Any
) -> None:
    body = pipeline.get(f"{FEED}key/").json()
    assert body["algorithm"] == "HMAC-SHA256"
    assert body["kinds"] == ["email", "phone"]
    assert body["key"] != settings.BLIND_INDEX_KEY
    assert settings.BLIND_INDEX_KEY not in json.dumps(body)
    event = AuditEvent.objects.get(action="training.export_key_read")
    assert event.data == {"key_id": body["key_id"]}
    assert body["key"] not in json.dumps(event.data)


def test_the_export_files_hold_every_exclusion_in_force(
    pipeline: APIClient,
    verified: Callable[..., Request],
    make_request: Callable[..., Request],
    choose: Callable[..., Any],
) -> None:
    # given an erasure, and a withdrawal since lifted
    verified("erasure", MARIA)
    james = make_request(identity=JAMES).subject
    choose(james, "ai_training", False)
    choose(james, "ai_training", True)
    key = _key(pipeline)
    maria_email = recipe_index(key, "email", MARIA["email"])
    james_email = recipe_index(key, "email", JAMES["email"])
    # when the CSV is downloaded
    answer = pipeline.get(f"{FEED}export.csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert int(answer["X-Exclusions-Cursor"]) == ExclusionEntry.objects.latest("id").pk
    rows = list(
        csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode()))
    )
    # then one row per key of the erasure; the lifted withdrawal is gone
    assert {(r["kind"], r["reason"]) for r in rows} == {("blind_index", "erasure")}
    assert maria_email in {r["value"] for r in rows}
    assert james_email not in {r["value"] for r in rows}
    # and JSON Lines: one line per exclusion
    answer = pipeline.get(f"{FEED}export.jsonl")
    assert answer["Content-Type"].startswith("application/x-ndjson")
    lines = b"".join(answer.streaming_content).decode().splitlines()
    [line] = [json.loads(text) for text in lines]
    assert line["reason"] == "erasure"
    assert maria_email in line["blind_indexes"]
    assert line["conversation_ids"] == []


def test_registering_a_dataset_and_reading_it_back(pipeline: APIClient) -> None:
    key = _key(pipeline)
    body = {
        "name": "support-chats",
        "version": "2026-11",
        "conversation_ids": ["conv-8812", "conv-9034", "conv-8812"],
        "blind_indexes": [recipe_index(key, "email", p["email"]) for p in PEOPLE],
    }
    # when
    answer = pipeline.post("/api/v1/datasets/", body, format="json")
    # then
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert made["conversation_count"] == 2  # the repeated id counted once
    assert made["blind_index_count"] == 5
    assert made["must_rebuild"] is False
    assert made["rebuilds"] == []
    got = pipeline.get(f"/api/v1/datasets/{made['id']}/").json()
    assert got == made
    listed = pipeline.get("/api/v1/datasets/").json()
    assert [d["id"] for d in listed["results"]] == [made["id"]]
    assert DatasetMember.objects.filter(dataset__public_id=made["id"]).count() == 7
    # the same version twice is a conflict, nothing added
    again = pipeline.post("/api/v1/datasets/", body, format="json")
    assert again.status_code == 409
    assert Dataset.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"version": "=1+1"}, "version"),
        ({"conversation_ids": ["ok-1", "=HYPERLINK(1)"]}, "conversation_ids[1]"),
        ({"conversation_ids": "conv-1"}, "conversation_ids"),
        ({"blind_indexes": ["a" * 64, "not-hex"]}, "blind_indexes[1]"),
        ({"conversation_ids": [], "blind_indexes": []}, "conversation_ids"),
        ({"conversation_ids": [f"c-{n}" for n in range(10_001)]}, "conversation_ids"),
        ({"rows": 3}, "rows"),
        (
            {"conversation_owners": [{"conversation_id": "c-1", "identity": {}}]},
            "conversation_owners[0].identity",
        ),
    ],
)
def test_a_bad_dataset_is_a_400_naming_the_field_and_writes_nothing(
    pipeline: APIClient, change: dict[str, Any], field: str
) -> None:
    body = {"name": "support-chats", "version": "1", "conversation_ids": ["c-1"]}
    body.update(change)
    answer = pipeline.post("/api/v1/datasets/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"], answer.json()
    assert Dataset.objects.count() == 0


def test_registering_needs_the_training_write_scope(
    make_api_client: Callable[..., tuple[ApiClient, APIClient]],
) -> None:
    _, reader = make_api_client("training:read")
    body = {"name": "support-chats", "version": "1", "conversation_ids": ["c-1"]}
    assert reader.post("/api/v1/datasets/", body, format="json").status_code == 403
    assert Dataset.objects.count() == 0
