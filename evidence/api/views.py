"""The evidence-pack downloads of the API: look up, call one service, send.

Who may do what is decided by the services through the Actor built from the
calling client; `required_scopes` only turns tokens away early. API clients
get the pseudonymised pack only: the internal copy is a dashboard action of a
privacy officer.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request as HttpRequest

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from dsr.selectors import request_get
from evidence.services import (
    GeneratedPack,
    evidence_pack_download,
    evidence_pack_download_for_run,
)
from privacydesk.apikit import FileView, error_responses, public_uuid
from retention.selectors import run_get


class PdfRenderer(BaseRenderer):
    """Lets a client send `Accept: application/pdf`; errors still go out as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        return json.dumps(data).encode()


def pdf_response(result: GeneratedPack) -> HttpResponse:
    response = HttpResponse(result.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{result.pack.filename}"'
    response["Content-Length"] = str(len(result.content))
    response["X-Evidence-Pack-SHA256"] = result.pack.sha256
    response["Cache-Control"] = "no-store"
    return response


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(*codes, e403="The token lacks the scope the download needs.")


_PDF = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=(
        "The evidence pack (application/pdf, PDF/A-3b) with its facts attached as "
        "evidence.json. Header X-Evidence-Pack-SHA256 is the file's SHA-256, "
        "which is also recorded in the audit chain."
    ),
)


class _PdfApi(FileView):
    renderer_classes = [JSONRenderer, PdfRenderer]


class RequestEvidencePackView(_PdfApi):
    required_scopes = {"GET": Scope.REQUESTS_READ}

    @extend_schema(
        operation_id="requests_evidence_pdf",
        summary="Download the request's evidence pack (PDF)",
        description=(
            f"Needs the scope `{Scope.REQUESTS_READ}`. The pack of a closed request "
            "is the stored one while nothing has happened to the request since; "
            "otherwise (and for an open request) a new pack is generated. The "
            "subject appears only as a pseudonymous reference. Each download is "
            "audited."
        ),
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The request's public id.",
            )
        ],
        responses={200: _PDF, **_errors(400, 401, 403, 404)},
        tags=["requests"],
    )
    def get(self, request: HttpRequest, id: str) -> HttpResponse:
        actor = client_actor(request)
        dsr_request = request_get(
            actor=actor, public_id=public_uuid(id, what="request")
        )
        return pdf_response(evidence_pack_download(actor=actor, request=dsr_request))


class RunEvidencePackView(_PdfApi):
    required_scopes = {"GET": Scope.RETENTION_READ}

    @extend_schema(
        operation_id="retention_runs_evidence_pdf",
        summary="Download a purge run's evidence pack (PDF)",
        description=(
            f"Needs the scope `{Scope.RETENTION_READ}`. Policy, cutoff, counts per "
            "table, rows held back and why, duration, errors and the audit hashes, "
            "with the same facts attached as evidence.json. Each download is audited."
        ),
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The purge run's public id.",
            )
        ],
        responses={200: _PDF, **_errors(400, 401, 403, 404)},
        tags=["retention"],
    )
    def get(self, request: HttpRequest, id: str) -> HttpResponse:
        actor = client_actor(request)
        run = run_get(actor=actor, public_id=public_uuid(id, what="purge run"))
        return pdf_response(evidence_pack_download_for_run(actor=actor, run=run))
