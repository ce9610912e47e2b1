"""The training API: the exclusions feed, its export file and key, and the
datasets pipelines register. Parse, call one service or selector, serialize."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from privacydesk.apikit import (
    FileView,
    error_responses,
    id_parameter,
    parse,
    public_uuid,
)
from training.api import serializers as s
from training.exports import FORMATS, export_lines
from training.keys import export_key_id
from training.models import Dataset
from training.selectors import dataset_get, dataset_list, exclusion_feed, feed_cursor
from training.services.datasets import ConversationOwner, dataset_register
from training.services.keys import export_key_hand_out

TAGS = ["training"]
_View = TypeVar("_View", bound=Callable[..., Any])
NORMALISATION = {
    "email": "trim spaces, then lower-case",
    "phone": "trim; keep digits only, with a leading + if there was one",
}


class ExclusionFeedView(APIView):
    required_scopes = {"GET": Scope.TRAINING_READ}

    @extend_schema(
        operation_id="training_exclusions_list",
        summary="Follow the training-exclusion feed",
        description=(
            f"Needs `{Scope.TRAINING_READ}`. Every subject who withdrew consent to "
            "model training, objected, or asked for erasure, as entries in the "
            "order they were recorded. Keep `next_since` and pass it as `since` "
            "next time: no entry is missed or repeated. An entry lists the "
            "subject's export blind indexes (see the key endpoint) and "
            "conversation ids; never an identifier in plaintext. A `lifted` "
            "entry ends the exclusion with that id."
        ),
        parameters=[s.FeedQuerySerializer],
        responses={200: s.ExclusionFeedSerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = parse(s.FeedQuerySerializer, request.query_params)
        page = exclusion_feed(
            actor=client_actor(request), since=query["since"], limit=query["limit"]
        )
        body = {
            "results": page.entries,
            "next_since": page.next_since,
            "has_more": page.has_more,
            "key_id": export_key_id(),
        }
        return Response(s.ExclusionFeedSerializer(body).data)


class ExportKeyView(APIView):
    required_scopes = {"GET": Scope.TRAINING_READ}

    @extend_schema(
        operation_id="training_exclusions_key",
        summary="Get the key to compute export blind indexes",
        description=(
            f"Needs `{Scope.TRAINING_READ}`. A pipeline computes "
            "HMAC-SHA256(key, `<kind>|<normalised value>`) of each e-mail and "
            "phone in its own data to match the feed's `blind_indexes`. The key "
            "is derived for this use only; it cannot be used to look anyone up "
            "in Privacy Desk. Each read is audited."
        ),
        responses={200: s.ExportKeySerializer, **error_responses(401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        key = export_key_hand_out(actor=client_actor(request))
        body = {
            "key": key.key,
            "key_id": key.key_id,
            "algorithm": key.algorithm,
            "message": key.message,
            "kinds": list(key.kinds),
            "normalisation": NORMALISATION,
        }
        return Response(s.ExportKeySerializer(body).data)


class _TextRenderer(BaseRenderer):
    """Lets a client ask for the file's type; errors still go out as JSON."""

    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, context: Any = None
    ) -> bytes:
        return JSONRenderer().render(data)


class CsvRenderer(_TextRenderer):
    media_type = FORMATS["csv"]
    format = "csv"


class JsonlRenderer(_TextRenderer):
    media_type = FORMATS["jsonl"]
    format = "jsonl"


class _ExportView(FileView):
    required_scopes = {"GET": Scope.TRAINING_READ}
    file_format = ""

    def get(self, request: Request) -> HttpResponseBase:
        actor = client_actor(request)
        cursor = feed_cursor()  # read first: the file holds at least this much
        response = StreamingHttpResponse(
            export_lines(actor=actor, file_format=self.file_format),
            content_type=f"{FORMATS[self.file_format]}; charset=utf-8",
        )
        name = f"training-exclusions.{self.file_format}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Exclusions-Cursor"] = str(cursor)
        response["Cache-Control"] = "no-store"
        return response


def _export_schema(file_format: str, what: str) -> Callable[[_View], _View]:
    return extend_schema(
        operation_id=f"training_exclusions_export_{file_format}",
        summary=f"Download every exclusion in force ({file_format.upper()})",
        description=(
            f"Needs `{Scope.TRAINING_READ}`. {what} Header X-Exclusions-Cursor "
            "is the feed's cursor when the file was made: follow the feed from "
            "there to keep it current."
        ),
        responses={
            (200, FORMATS[file_format]): OpenApiResponse(
                OpenApiTypes.STR, description=what
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


class ExportCsvView(_ExportView):
    renderer_classes = [JSONRenderer, CsvRenderer]
    file_format = "csv"

    @_export_schema(
        "csv",
        "One row per key: kind (blind_index or conversation_id), value, "
        "exclusion, reason, excluded_at.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class ExportJsonlView(_ExportView):
    renderer_classes = [JSONRenderer, JsonlRenderer]
    file_format = "jsonl"

    @_export_schema(
        "jsonl",
        "One JSON object per exclusion: exclusion, reason, excluded_at, "
        "blind_indexes, conversation_ids.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class DatasetViewSet(viewsets.GenericViewSet[Dataset]):
    """Training datasets an ML pipeline registered, version by version."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.TRAINING_READ,
        "retrieve": Scope.TRAINING_READ,
        "create": Scope.TRAINING_WRITE,
    }

    @extend_schema(
        operation_id="training_datasets_list",
        summary="List registered datasets",
        description=f"Needs `{Scope.TRAINING_READ}`. By name, newest version first.",
        responses={
            200: s.DatasetSerializer(many=True),
            **error_responses(400, 401, 403),
        },
        tags=TAGS,
    )
    def list(self, request: Request) -> Response:
        datasets = dataset_list(actor=client_actor(request))
        page = self.paginate_queryset(datasets)
        return self.get_paginated_response(s.DatasetSerializer(page, many=True).data)

    @extend_schema(
        operation_id="training_datasets_create",
        summary="Register a dataset version",
        description=(
            f"Needs `{Scope.TRAINING_WRITE}`. What the version holds: conversation "
            "ids and/or export blind indexes (at most the documented number of "
            "each). It is marked `must_rebuild` at once if it holds someone "
            "already excluded, and later whenever someone it holds is. A rebuilt "
            "dataset is registered as a new version; the same name and version "
            "twice is a 409."
        ),
        request=s.DatasetCreateSerializer,
        responses={201: s.DatasetSerializer, **error_responses(400, 401, 403, 409)},
        tags=TAGS,
    )
    def create(self, request: Request) -> Response:
        data = parse(s.DatasetCreateSerializer, request.data)
        owners = [ConversationOwner(**owner) for owner in data["conversation_owners"]]
        dataset = dataset_register(
            actor=client_actor(request),
            name=data["name"],
            version=data["version"],
            conversation_ids=data["conversation_ids"],
            blind_indexes=data["blind_indexes"],
            conversation_owners=owners,
        )
        dataset = dataset_get(actor=client_actor(request), public_id=dataset.public_id)
        return Response(
            s.DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="training_datasets_retrieve",
        summary="Get a registered dataset version",
        description=f"Needs `{Scope.TRAINING_READ}`.",
        parameters=[id_parameter("dataset")],
        responses={200: s.DatasetSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: Request, **kwargs: str) -> Response:
        dataset = dataset_get(
            actor=client_actor(request),
            public_id=public_uuid(kwargs["id"], what="dataset"),
        )
        return Response(s.DatasetSerializer(dataset).data)
