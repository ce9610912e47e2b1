"""The hot path of an endpoint whose body asks a consent check.

An AI agent asks `/consent/check/` or `/redact/` on every turn. The usual
call (POST, a plain JSON body, the usual Accept, a cached caller holding
the scope and past its first, audited use) skips DRF's request wrapping,
negotiation, parsers, permissions and response finalisation, and answers
the same bytes, status and headers DRF would. Anything else goes through
DRF as every other endpoint does.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.actors import Actor, actor_for_client
from consent.api.authentication import Prefetched, prefetch_with_caller
from privacydesk.apikit import JsonOnlyNegotiation, exception_handler

_RENDERER = JSONRenderer()


class PrefetchedPostView(APIView, metaclass=ABCMeta):
    """An APIView with one JSON renderer whose POST is served by
    `fast_answer` when the call is the usual one (the module docstring);
    `post` must give the same answer through DRF. A view subclassing it
    cannot be built without both methods below."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnlyNegotiation
    fast_scope: str  # the scope the POST needs (also in required_scopes)

    @abstractmethod
    def fast_accepts(self, body: dict[str, Any]) -> bool:
        """Whether `body` is the usual one, checked by hand."""

    @abstractmethod
    def fast_answer(self, actor: Actor, prefetched: Prefetched) -> Any:
        """What `post` answers for this body, as data to render."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast_post(request, args, kwargs)
        if fast is not None:
            return fast
        return super().dispatch(request, *args, **kwargs)

    def _fast_post(
        self, request: HttpRequest, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        meta = request.META
        if (
            request.method != "POST"
            or meta.get("HTTP_ACCEPT", "") not in JsonOnlyNegotiation.PLAIN
            or meta.get("QUERY_STRING")
        ):
            return None
        found = prefetch_with_caller(request, self.fast_accepts)
        if found is None:
            return None
        prefetched, client = found
        scope = self.fast_scope
        if (
            client is None
            or scope not in client.scopes
            or scope not in client.scopes_used
        ):
            # DRF reads the database, answers 401/403, or audits the scope's
            # first use (audit.api.permissions); the cached row then lists it
            return None
        request.user = None  # type: ignore[assignment]  # as DRF sets it for an API client
        status = 200
        try:
            answer = self.fast_answer(actor_for_client(client), prefetched)
        except Exception as error:  # answered as DRF's handler answers it
            handled = exception_handler(
                error, {"view": self, "args": args, "kwargs": kwargs, "request": None}
            )
            if handled is None:
                raise
            answer, status = handled.data, handled.status_code
        return HttpResponse(
            _RENDERER.render(answer),
            status=status,
            content_type=_RENDERER.media_type,
            headers=self.default_response_headers,
        )
