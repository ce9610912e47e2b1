"""400, 403, 404 and 500: JSON under /api/, a styled page in the portal and
the dashboard, and a too-large post told as such."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from privacydesk.error_pages import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_portal_page_is_a_styled_404(client):
    response = client.get("/privacy/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "css/portal.css" in body
    assert "Page not found" in body
    assert 'href="/privacy/"' in body


def test_an_unknown_dashboard_page_is_a_404_in_the_dashboard_look(client):
    response = client.get("/dashboard/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "css/dashboard.css" in body
    assert 'href="/dashboard/"' in body


def test_an_unknown_api_url_answers_json(client):
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_too_large_post_is_told_as_such(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    response = client.post(
        "/privacy/requests/new/", {"details": "x" * 150_000, "email": "a@b.example"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-detail"' in body
    assert "too large: the limit is 0.1 MB" in body
    assert "Bad Request (400)" not in body


def test_a_server_error_is_a_page_and_json_under_the_api():
    request = RequestFactory().get("/privacy/requests/new/")
    response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    api = server_error(RequestFactory().post("/api/v1/redact/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"
