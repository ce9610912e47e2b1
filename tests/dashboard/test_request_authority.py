"""The request page names the supervisory authority of the request's regime
(the one the subject is told of when a request is rejected)."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from tests.dsr.test_regimes import CASES


@pytest.mark.parametrize(("regime", "named", "never"), CASES)
def test_request_page_tells_staff_the_requests_authority(
    regime, named, never, officer_client: Client, make_request
):
    # given
    request = make_request(regime=regime)

    # when
    page = officer_client.get(
        reverse("dashboard:request_detail", args=[request.public_id])
    ).content.decode()

    # then the reject form names the authority the subject will be told of
    text = html.unescape(page)
    assert named in text
    for other in never:
        assert other not in text
