"""The disclosure's optional names: the store's `title` and its
`category_names`, as the subject reads them; checked on write (types and
lengths, the error naming the path), kept through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from connectors.disclosure import (
    category_name,
    humanised,
    store_disclosure_clean,
    store_disclosure_read,
    store_title,
)
from connectors.models import Connector
from privacydesk.errors import ValidationFailed
from tests.disclosure import CATEGORIES, DISCLOSURE

URL = "/api/v1/connectors/"
NAMES = {"support_message": "Messages you sent to support"}


@pytest.mark.parametrize(
    ("slug", "words"),
    [
        ("chat-transcripts", "Chat transcripts"),
        ("ai_conversation", "AI conversation"),
        ("support_message", "Support message"),
        ("customer_id", "Customer ID"),
        ("crm", "CRM"),
        ("helpdesk", "Helpdesk"),
        ("iPhone-backups", "iPhone backups"),
        ("", ""),
    ],
)
def test_a_slug_in_words(slug: str, words: str) -> None:
    assert humanised(slug) == words


def test_configured_names_win_and_a_blank_one_falls_back() -> None:
    disclosure = {**DISCLOSURE, "title": "Support helpdesk", "category_names": NAMES}

    assert store_title("helpdesk", disclosure) == "Support helpdesk"
    assert store_title("chat-transcripts", {**DISCLOSURE, "title": "  "}) == (
        "Chat transcripts"
    )
    assert category_name("support_message", NAMES) == "Messages you sent to support"
    assert category_name("ai_conversation", NAMES) == "AI conversation"
    store, problems = store_disclosure_read(
        connector="helpdesk",
        disclosure=disclosure,
        categories=["support_message", "contact"],
    )
    assert problems == []
    assert store.title == "Support helpdesk"
    assert store.category_labels == ("Contact", "Messages you sent to support")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"title": 5}, "disclosure.title"),
        ({"title": "x" * 121}, "disclosure.title"),
        ({"category_names": ["support_message"]}, "disclosure.category_names"),
        ({"category_names": {"contact": 3}}, "disclosure.category_names.contact"),
        (
            {"category_names": {"contact": "y" * 201}},
            "disclosure.category_names.contact",
        ),
        (
            {"category_names": {f"c{n}": "name" for n in range(201)}},
            "disclosure.category_names",
        ),
    ],
)
def test_bad_names_are_refused_naming_the_path(change: dict[str, Any], path: str):
    with pytest.raises(ValidationFailed) as refused:
        store_disclosure_clean({**DISCLOSURE, **change})

    assert refused.value.field == path


def test_names_at_their_limits_are_accepted() -> None:
    disclosure = {
        **DISCLOSURE,
        "title": "t" * 120,
        "category_names": {f"c{n}": "n" * 200 for n in range(50)},
    }

    assert store_disclosure_clean(disclosure) == disclosure


def test_the_api_keeps_the_names_and_refuses_bad_ones(
    make_api_client: Callable[..., tuple[Any, APIClient]], tmp_path
) -> None:
    # given
    _, http = make_api_client("connectors:read", "connectors:write")
    body: dict[str, Any] = {
        "name": "billing",
        "kind": "manual",
        "config": {"instructions": "Flag the account in the billing system."},
        "data_categories": CATEGORIES,
        "disclosure": {**DISCLOSURE, "title": "Billing", "category_names": NAMES},
    }

    # when
    created = http.post(URL, body, format="json")
    refused = http.patch(
        f"{URL}{created.json()['id']}/",
        {"disclosure": {**DISCLOSURE, "title": ["Billing"]}},
        format="json",
    )

    # then
    assert created.status_code == 201, created.json()
    assert created.json()["disclosure"]["title"] == "Billing"
    assert created.json()["disclosure"]["category_names"] == NAMES
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["disclosure.title"]
    assert Connector.objects.get().disclosure["title"] == "Billing"  # unchanged
