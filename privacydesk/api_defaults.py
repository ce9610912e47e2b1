"""The API-wide classes DRF's settings and the root URLconf name by path:
paging, what OPTIONS answers, and the JSON 404 under /api/.

Kept apart from privacydesk.apikit because DRF imports these while it reads
its settings, which the kit's own imports may trigger: in one module, the
import would see the kit half-initialised.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """`limit` and `offset` as documented, whole numbers from 1 and 0; anything
    else is a 400 naming the parameter, not silently the first page."""

    def get_limit(self, request: Request) -> int | None:
        return self._number(request, self.limit_query_param, self.default_limit, 1)

    def get_offset(self, request: Request) -> int:
        return self._number(request, self.offset_query_param, 0, 0) or 0

    def _number(
        self, request: Request, name: str, default: int | None, minimum: int
    ) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise serializers.ValidationError(
                {name: [f"must be a whole number, {minimum} or more"]}
            )
        if name == self.limit_query_param and self.max_limit:
            return min(value, self.max_limit)
        return value

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters


class SchemaMetadata(SimpleMetadata):
    """What OPTIONS answers: the view's name and media types. The inputs are
    described by the OpenAPI schema; DRF's own description of them needs a
    `serializer_class`, which our views (parse, call a service, render) do
    not have, and answered 500 where a token held the method's scope."""

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        return {}
