"""The HubSpot stand-in's HTTP side: the CRM v3 contact calls hubspot.yaml
makes, with a private-app Bearer token (401 INVALID_AUTHENTICATION), a
budget per 10-second window (429 RATE_LIMIT with X-HubSpot-RateLimit-*
headers), searches paged by `after` in the body (small pages), archive by
DELETE, the GDPR delete, an optional 5xx rate, a token revoked after N
calls, and `/_standin/state.json`.

    standin = start(token="pat-na1-...")   # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats; standin.stop()
"""

from __future__ import annotations

from typing import Any

from standins.http import Handler, Service, routes, starter
from standins.hubspot.state import Portal

WINDOW_SECONDS = 10.0
PER_WINDOW = 100  # Free/Starter private apps: 100 requests per 10 s
CONTACTS = "/crm/v3/objects/contacts"

StandIn = Service[Portal]


def _error(category: str, message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "00000000-0000-4000-8000-000000000000",
        "category": category,
    }


NOT_FOUND = _error("OBJECT_NOT_FOUND", "resource not found")


class _Handler(Handler):
    standin: StandIn
    routes = routes(
        CONTACTS,
        [
            ("GET", "", "list_contacts"),
            ("POST", "/search", "search"),
            ("POST", "/gdpr-delete", "gdpr_delete"),
            ("GET", "/(\\d+)", "read"),
            ("PATCH", "/(\\d+)", "update"),
            ("DELETE", "/(\\d+)", "archive"),
        ],
        suffix="",
    )
    refusals = {
        401: _error(
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        ),
        404: NOT_FOUND,
        503: _error("SERVICE_UNAVAILABLE", "Try again"),
    }
    auth_first = True
    retry_after = False  # HubSpot documents no Retry-After on its 429
    numeric_ids = False  # HubSpot's ids are strings of digits

    def _authenticated(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.standin.token}"

    def refusal(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "00000000-0000-4000-8000-000000000000",
                "policyName": "TEN_SECONDLY_ROLLING",
            }
        return super().refusal(status)

    def budget_headers(self) -> dict[str, str]:
        if not self.authorized:
            return {}
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(
                int(self.standin.window_seconds * 1000)
            ),
            "X-HubSpot-RateLimit-Max": str(self.standin.per_window),
            "X-HubSpot-RateLimit-Remaining": str(self.standin.remaining()),
        }

    # -- routes ------------------------------------------------------------------
    def _list_contacts(self, body: Any) -> tuple[int, Any]:
        limit = int(self.query.get("limit") or 10)
        return 200, {"results": self.standin.account.first(limit)}

    def _search(self, body: dict[str, Any]) -> tuple[int, Any]:
        groups = _groups(body.get("filterGroups"))
        if groups is None:
            return 400, _error("VALIDATION_ERROR", "filterGroups: EQ filters only")
        properties = body.get("properties") or None
        found = self.standin.account.search(groups, properties)
        size = min(int(body.get("limit") or 10), self.standin.page_size)
        start = int(body.get("after") or 0)
        end = start + size
        answer: dict[str, Any] = {"total": len(found), "results": found[start:end]}
        if end < len(found):
            answer["paging"] = {"next": {"after": str(end), "link": f"?after={end}"}}
        return 200, answer

    def _read(self, cid: str, body: Any) -> tuple[int, Any]:
        asked = self.query.get("properties")
        found = self.standin.account.read(cid, asked.split(",") if asked else None)
        return (404, NOT_FOUND) if found is None else (200, found)

    def _update(self, cid: str, body: dict[str, Any]) -> tuple[int, Any]:
        changes = body.get("properties")
        if not isinstance(changes, dict):
            return 400, _error("VALIDATION_ERROR", "properties is required")
        result = self.standin.account.update(cid, changes)
        if result == "OBJECT_NOT_FOUND":
            return 404, NOT_FOUND
        if isinstance(result, str):
            return 400, _error(result, "Property values were not valid")
        return 200, result

    def _archive(self, cid: str, body: Any) -> tuple[int, Any]:
        self.standin.account.archive(cid)
        return 204, None

    def _gdpr_delete(self, body: dict[str, Any]) -> tuple[int, Any]:
        object_id = body.get("objectId")
        if not isinstance(object_id, str) or not object_id:
            return 400, _error("VALIDATION_ERROR", "objectId is required")
        # (assumed: an id no contact has answers 404, as a read by id does)
        if not self.standin.account.gdpr_delete(object_id, body.get("idProperty")):
            return 404, NOT_FOUND
        return 204, None


def _groups(raw: Any) -> list[list[tuple[str, str]]] | None:
    """filterGroups as [[(property, value), ...], ...]; None when not all EQ."""
    if not isinstance(raw, list) or not raw:
        return None
    groups = []
    for group in raw:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or not filters:
            return None
        pairs = []
        for item in filters:
            if not isinstance(item, dict) or item.get("operator") != "EQ":
                return None
            pairs.append((str(item.get("propertyName")), str(item.get("value"))))
        groups.append(pairs)
    return groups


# start(account=None, *, token, port=0, **options) -> StandIn (standins.http)
start = starter(
    _Handler, Portal.seeded, per_window=PER_WINDOW, window_seconds=WINDOW_SECONDS
)
