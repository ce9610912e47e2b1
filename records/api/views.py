"""The records-of-processing API: read the record, or take it as CSV."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from privacydesk.apikit import FileView, error_responses
from records.api import serializers as s
from records.exports import CSV_COLUMNS, record_export_csv
from records.selectors.record import record_as_dict, record_digest, record_read

TAGS = ["records of processing"]


class RecordView(APIView):
    required_scopes = {"GET": Scope.GOVERNANCE_READ}

    @extend_schema(
        operation_id="records_of_processing_read",
        summary="Read the records of processing (GDPR Art. 30)",
        description=(
            f"Needs `{Scope.GOVERNANCE_READ}`. The record as configured now: the "
            "controller (30(1)(a)), one entry per processing activity with its "
            "purpose, categories of subjects and data, recipients, transfers "
            "outside the EEA with their safeguards and time limits for erasure "
            "((b)-(f)), the security measures ((g)), the data map (which store "
            "holds which categories for which purposes) and every gap: what is "
            "not configured is listed, never filled in."
        ),
        responses={200: s.RecordSerializer, **error_responses(401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        record = record_read(actor=client_actor(request))
        body = {**record_as_dict(record), "record_sha256": record_digest(record)}
        return Response(s.RecordSerializer(body).data)


class CsvRenderer(BaseRenderer):
    """Lets a client ask for CSV; errors still go out as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, context: Any = None
    ) -> bytes:
        return JSONRenderer().render(data)


class RecordCsvView(FileView):
    required_scopes = {"GET": Scope.GOVERNANCE_READ}
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="records_of_processing_csv",
        summary="Export the records of processing as CSV",
        description=(
            f"Needs `{Scope.GOVERNANCE_READ}`. One row per processing activity "
            "(then one per store no purpose covers), columns "
            + ", ".join(f"`{c}`" for c in CSV_COLUMNS)
            + ". Each export is recorded and audited with the record's version "
            "(header X-Record-Version) and content digest (X-Record-SHA256)."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The record, one activity a row."
            ),
            **error_responses(
                400,
                401,
                403,
                404,
                e400="An unknown query parameter, or `format` given without a value.",
                e404="`format` names no format this file comes in.",
            ),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> HttpResponseBase:
        exported = record_export_csv(actor=client_actor(request))
        response = HttpResponse(
            exported.content, content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{exported.export.filename}"'
        )
        response["X-Record-Version"] = str(exported.export.version)
        response["X-Record-SHA256"] = exported.export.record_sha256
        response["Cache-Control"] = "no-store"
        return response
