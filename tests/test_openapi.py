"""The API documents itself: a valid schema and docs served without a CDN."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.test import Client


def test_schema_is_openapi_3_and_documents_the_requests_api():
    response = Client().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/requests/" in paths
    assert {"get", "post"} <= set(paths["/api/v1/requests/"])
    assert "/api/v1/requests/{id}/" in paths
    assert "/api/v1/requests/{id}/verify/" in paths
    assert "Error" in schema["components"]["schemas"]
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_schema_generates_without_warnings(tmp_path: Path):
    # --fail-on-warn turns any spectacular warning into an error
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )

    assert "/api/v1/requests/" in (tmp_path / "schema.yaml").read_text()


def test_docs_are_served_without_a_cdn():
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body.lower()
    assert "cdn.jsdelivr" not in body
    assert "unpkg" not in body
