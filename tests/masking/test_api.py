"""POST /api/v1/redact/ and /api/v1/restore/ as an AI agent calls them: the
consent answer and the masked text in one round trip, stable tokens per
conversation, values back only for the same customer and conversation."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from connectors.demo.content import Customer
from consent.models import Purpose
from masking.demo import sample_message
from masking.models import VaultEntry
from subjects.claims import identity_claims
from subjects.selectors import subject_find
from tests.masking.conftest import PURPOSE, consenting, redact, restore

pytestmark = pytest.mark.django_db


def test_redact_masks_the_customers_identifiers_and_pattern_pii(
    api: APIClient, maria: Customer
) -> None:
    text = (
        f"Hi, this is {maria.name}. Order ORD-482913 never came; write to "
        f"{maria.email} or call {maria.phone}. Card 4111 1111 1111 1111."
    )

    response = redact(api, maria, text, name=maria.name)

    assert response.status_code == 200, response.json()
    body = response.json()
    first = maria.name.split()[0]
    assert body["text"] == (
        "Hi, this is <PERSON_1>. Order <ORDER_1> never came; write to "
        "<EMAIL_1> or call <PHONE_1>. Card <CARD_1>."
    )
    assert body["allowed"] is True
    assert body["reason"] is None
    assert body["consent"]["state"] == "granted"
    assert body["consent"]["purpose"] == PURPOSE
    assert body["conversation_id"] == "conv-1"
    assert body["vault"] == "tokens"
    assert body["counts"] == {
        "PERSON": 1,
        "ORDER": 1,
        "EMAIL": 1,
        "PHONE": 1,
        "CARD": 1,
    }
    assert body["tokens"][0] == {"token": "<PERSON_1>", "entity": "PERSON"}
    # the answer never carries a value
    raw = response.content.decode()
    for value in (maria.email, maria.phone, first, "ORD-482913", "4111"):
        assert value not in raw


def test_the_same_value_keeps_its_token_across_calls_of_a_conversation(
    api: APIClient, maria: Customer
) -> None:
    # given a first turn
    first = redact(api, maria, "Reply to bob@example.org or ann@example.org.")
    assert first.json()["text"] == "Reply to <EMAIL_1> or <EMAIL_2>."

    # when later turns name them again, spelt differently, with a new one
    second = redact(
        api,
        maria,
        "Not ANN@Example.org, use carl@example.org; bob@example.org is fine.",
        reversible=True,
    )
    other_conversation = redact(
        api, maria, "carl@example.org", conversation_id="conv-2"
    )

    # then each value keeps its number in the conversation, and only there
    assert second.json()["text"] == ("Not <EMAIL_2>, use <EMAIL_3>; <EMAIL_1> is fine.")
    assert second.json()["stored"] == 1
    assert other_conversation.json()["text"] == "<EMAIL_1>"
    assert VaultEntry.objects.filter(conversation_id="conv-1").count() == 3


def test_a_reversible_mapping_restores_the_values_in_a_models_reply(
    api: APIClient, maria: Customer, rng: random.Random
) -> None:
    message = f"{sample_message(rng, maria)} Reply to {maria.email}"
    masked = redact(api, maria, message, reversible=True, name=maria.name).json()
    assert masked["vault"] == "reversible"
    assert maria.email not in masked["text"]
    assert {"EMAIL", "PERSON", "ORDER"} <= set(masked["counts"])
    # the vault keeps the values encrypted
    assert VaultEntry.objects.filter(value__contains="@").count() == 0

    reply = masked["text"] + " <EMAIL_9> stays."
    response = restore(api, maria, reply)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["text"] == message + " <EMAIL_9> stays."
    assert body["restored"] == sum(masked["counts"].values())
    assert body["unknown"] == 1


def test_tokens_kept_without_values_restore_nothing(
    api: APIClient, maria: Customer
) -> None:
    redact(api, maria, f"Mail {maria.email}")

    body = restore(api, maria, "We wrote to <EMAIL_1>.").json()

    assert body == {"text": "We wrote to <EMAIL_1>.", "restored": 0, "unknown": 1}


def test_restore_never_reveals_another_customers_or_conversations_values(
    api: APIClient,
    maria: Customer,
    refuser: Customer,
    django_capture_on_commit_callbacks: Any,
) -> None:

    consenting(refuser, True, django_capture_on_commit_callbacks)
    redact(api, maria, f"Mail {maria.email}", reversible=True)
    redact(api, refuser, f"Mail {refuser.email}", reversible=True)

    mine = restore(api, maria, "<EMAIL_1>").json()
    theirs = restore(api, refuser, "<EMAIL_1>").json()
    elsewhere = restore(api, maria, "<EMAIL_1>", conversation_id="conv-2").json()
    stranger = restore(
        api, maria, "<EMAIL_1>", identity={"email": "nobody@example.net"}
    ).json()

    assert mine["text"] == maria.email
    assert theirs["text"] == refuser.email
    assert elsewhere == {"text": "<EMAIL_1>", "restored": 0, "unknown": 1}
    assert stranger == {"text": "<EMAIL_1>", "restored": 0, "unknown": 1}


def test_a_customer_who_refused_ai_processing_is_told_so_and_nothing_is_kept(
    api: APIClient, refuser: Customer
) -> None:
    response = redact(
        api, refuser, f"I am {refuser.email}, {refuser.email}", reversible=True
    )

    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is False
    assert body["consent"]["state"] == "withdrawn"
    assert "withdrew consent" in body["reason"]
    assert body["vault"] == "none"
    assert body["text"] == "I am <EMAIL_1>, <EMAIL_1>"
    assert body["stored"] == 0
    assert VaultEntry.objects.count() == 0


def test_a_customer_never_asked_gets_the_purposes_default_and_no_vault(
    api: APIClient,
) -> None:
    body = api.post(
        "/api/v1/redact/",
        {
            "identity": {"email": "new.person@example.com"},
            "purpose": PURPOSE,
            "conversation_id": "c",
            "text": "new.person@example.com",
            "reversible": True,
        },
        format="json",
    ).json()

    assert (body["allowed"], body["consent"]["state"]) == (False, "default")
    assert body["reason"].startswith("no consent to ai_processing")
    assert VaultEntry.objects.count() == 0


def test_the_first_entries_of_a_conversation_are_audited_once(
    api: APIClient, maria: Customer
) -> None:
    redact(api, maria, "a@example.org", reversible=True)
    redact(api, maria, "b@example.org", reversible=True)

    events = AuditEvent.objects.filter(action="masking.vault_opened")
    assert [e.data for e in events] == [{"entries": 1, "reversible": True}]
    assert maria.email not in str(events[0].data)
    # on the subject, by its public id, with the conversation recorded
    subject = subject_find(claims=identity_claims({"email": maria.email}))
    assert subject is not None
    assert (events[0].object_type, events[0].object_id) == (
        "subjects.datasubject",
        str(subject.public_id),
    )
    assert list(subject.conversations.values_list("conversation_id", "source")) == [
        ("conv-1", "masking")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "made_up"}, "purpose"),
        ({"purpose": "Not A Slug!"}, "purpose"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": 12}, "text"),
        ({"conversation_id": ""}, "conversation_id"),
        ({"conversation_id": "c" * 101}, "conversation_id"),
        ({"identity": {}}, "identity"),
        ({"identity": {"email": "not-an-email"}}, "identity.email"),
        ({"reversible": "yes"}, "reversible"),
        ({"name": "n" * 201}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_keeps_nothing(
    api: APIClient, maria: Customer, change: dict[str, Any], field: str
) -> None:
    body = {
        "identity": {"email": maria.email},
        "purpose": PURPOSE,
        "conversation_id": "conv-1",
        "text": f"write to {maria.email}",
        "reversible": True,
        **change,
    }

    response = api.post("/api/v1/redact/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert VaultEntry.objects.count() == 0


def test_restore_checks_its_input_too(api: APIClient, maria: Customer) -> None:
    response = restore(api, maria, "x" * 20_001)
    missing = api.post("/api/v1/restore/", {"text": "<EMAIL_1>"}, format="json")

    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    assert missing.status_code == 400
    assert {"identity", "conversation_id"} <= set(missing.json()["errors"])


def test_a_token_without_masking_use_is_refused_and_nothing_changes(
    make_api_client: Any, maria: Customer
) -> None:
    _, checker = make_api_client("consent:check")
    anonymous = APIClient()

    refused = redact(checker, maria, maria.email, reversible=True)
    refused_restore = restore(checker, maria, "<EMAIL_1>")
    unauthenticated = redact(anonymous, maria, maria.email)

    assert (refused.status_code, refused_restore.status_code) == (403, 403)
    assert unauthenticated.status_code == 401
    assert VaultEntry.objects.count() == 0


def test_a_purpose_allowed_by_default_keeps_a_vault_for_a_new_customer(
    api: APIClient,
) -> None:
    # given a purpose that needs no consent, and a customer never seen before
    Purpose.objects.filter(slug="analytics").update(default_granted=True)
    body = {
        "identity": {"email": "first.contact@example.com"},
        "purpose": "analytics",
        "conversation_id": "c-1",
        "text": "I am first.contact@example.com",
        "reversible": True,
    }

    # when
    answer = api.post("/api/v1/redact/", body, format="json").json()
    restored = api.post(
        "/api/v1/restore/",
        {"identity": body["identity"], "conversation_id": "c-1", "text": "<EMAIL_1>"},
        format="json",
    ).json()

    # then the customer now exists, holding the vault
    assert (answer["allowed"], answer["vault"]) == (True, "reversible")
    subject = subject_find(claims=identity_claims(body["identity"]))
    assert subject is not None
    assert VaultEntry.objects.get().subject == subject
    assert restored["text"] == "first.contact@example.com"
    opened = AuditEvent.objects.get(action="masking.vault_opened")
    assert opened.object_id == str(subject.public_id)


def test_a_token_kept_without_its_value_gets_it_when_asked_reversibly(
    api: APIClient, maria: Customer
) -> None:
    redact(api, maria, f"Mail {maria.email}")
    VaultEntry.objects.update(last_used_at=timezone.now() - timedelta(days=2))
    assert restore(api, maria, "<EMAIL_1>").json()["restored"] == 0

    again = redact(api, maria, f"I said {maria.email}", reversible=True).json()

    assert (again["text"], again["stored"]) == ("I said <EMAIL_1>", 0)
    assert restore(api, maria, "<EMAIL_1>").json()["text"] == maria.email
    entry = VaultEntry.objects.get()
    assert entry.last_used_at > timezone.now() - timedelta(minutes=1)


def test_reusing_a_token_marks_it_used_at_most_hourly(
    api: APIClient, maria: Customer
) -> None:
    redact(api, maria, maria.email)
    long_ago = timezone.now() - timedelta(days=2)
    recently = timezone.now() - timedelta(minutes=10)
    VaultEntry.objects.update(last_used_at=long_ago)

    redact(api, maria, maria.email)
    refreshed = VaultEntry.objects.get().last_used_at
    VaultEntry.objects.update(last_used_at=recently)
    redact(api, maria, maria.email)

    assert refreshed > long_ago + timedelta(days=1)
    assert VaultEntry.objects.get().last_used_at == recently


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (None, 200),
        ("*/*", 200),
        ("application/json", 200),
        ("application/json; indent=2", 200),
        ("text/html, application/json;q=0.5", 200),
        ("text/html", 406),
    ],
)
def test_redact_answers_json_or_406_as_negotiated(
    api: APIClient, maria: Customer, accept: str | None, status: int
) -> None:
    headers: dict[str, Any] = {} if accept is None else {"HTTP_ACCEPT": accept}
    body = {
        "identity": {"email": maria.email},
        "purpose": PURPOSE,
        "conversation_id": "conv-1",
        "text": f"Mail {maria.email}",
    }

    response = api.post("/api/v1/redact/", body, format="json", **headers)

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["text"] == "Mail <EMAIL_1>"
    assert VaultEntry.objects.count() == (1 if status == 200 else 0)
