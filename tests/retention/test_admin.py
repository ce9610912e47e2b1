"""Legal holds are read-only in the Django admin, under dsr where they live."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.retention.conftest import hold_customer

pytestmark = pytest.mark.django_db


def test_admin_lists_and_shows_legal_holds(admin_client: Client) -> None:
    # given
    hold = hold_customer(3)
    # when
    listing = admin_client.get("/admin/dsr/legalhold/")
    detail = admin_client.get(f"/admin/dsr/legalhold/{hold.pk}/change/")
    # then
    assert listing.status_code == 200
    assert str(hold.public_id) in listing.content.decode()
    assert detail.status_code == 200
