"""The status page offers the subject exactly what dsr.lifecycle offers them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from accounts.actors import actor_for_subject
from dsr.choices import RequestStatus
from dsr.lifecycle import RequestAction, request_available_actions
from dsr.links import status_token, status_token_read

# What the portal shows for each action a subject can take.
SHOWN_AS = {
    RequestAction.PROVE_IDENTITY: "Enter my code",
    RequestAction.CANCEL: "Cancel my request",
}


@pytest.mark.parametrize("status", list(RequestStatus))
def test_the_status_page_shows_exactly_the_subjects_actions(
    client: Client, request_in: Any, status: str
) -> None:
    # given the subject's request in this status
    request = request_in(status, channel="portal")
    available = request_available_actions(
        actor=actor_for_subject(str(request.public_id)), request=request
    )

    # when they open its status page
    token = status_token(str(request.public_id))
    body = client.get(reverse("portal:status", args=[token])).content.decode()

    # then it offers those actions and no other
    assert available <= set(SHOWN_AS), "the portal cannot show some of them"
    shown = {action for action, words in SHOWN_AS.items() if words in body}
    assert shown == available


@pytest.mark.parametrize("status", list(RequestStatus))
def test_the_code_page_is_open_only_while_the_subject_can_prove_identity(
    client: Client, request_in: Any, status: str
) -> None:
    request = request_in(status, channel="portal")
    available = request_available_actions(
        actor=actor_for_subject(str(request.public_id)), request=request
    )

    token = status_token(str(request.public_id))
    response = client.get(reverse("portal:verify", args=[token]))

    if RequestAction.PROVE_IDENTITY in available:
        assert response.status_code == 200
    else:
        # to its status page: a token signed anew, so compared by what it
        # reads (a second ticking over between the two signatures changes it)
        assert response.status_code == 302
        match = resolve(response["Location"])
        assert match.view_name == "portal:status"
        assert status_token_read(match.kwargs["token"]) == str(request.public_id)
