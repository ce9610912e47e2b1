"""OAuth2 in the SaaS engine, against a small stand-in with a token endpoint
(standins.oauth): the token is fetched by a form-encoded POST, cached for
every instance of the connector until shortly before it expires, renewed
once when the API refuses a cached one; the endpoint's refusals are named
(never the secrets); a rotated refresh token is kept through the
connector's hook; the API base URL may come from the token answer."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import yaml

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.base import ConnectorError, Identity
from connectors.kinds.saas import SaasConnector
from connectors.kinds.saas.definition import DefinitionError, parse
from connectors.models import Connector
from connectors.services import connector_create
from standins.holdings import Holdings
from standins.http import Handler, Service, routes, starter
from standins.oauth import TokenIssuer
from tests.disclosure import CATEGORIES, DISCLOSURE
from tests.standin_fixtures import running

pytestmark = pytest.mark.django_db

CLIENT_ID = "app-7c1e"
SECRET = "client-secret-9f8e7d6c5b4a"
REFRESH = "refresh-token-0a1b2c3d4e"
EMAIL = "ada.lovelace@example.com"

DEFINITION = {
    "service": "peopledemo",
    "label": "People demo",
    "base_url": "https://api.people.example",
    "auth": {
        "type": "oauth2",
        "grant": "client_credentials",
        "token_url": "https://api.people.example/oauth2/token",
        "secrets": ["client_id", "client_secret"],
    },
    "rate_limit": {"per_minute": 6000},
    "health": {"path": "/v1/me"},
    "records": {
        "person": {
            "category": "contact",
            "key": "id",
            "find": [
                {
                    "identifier": "email",
                    "path": "/v1/people",
                    "params": {"email": "{value}"},
                    "select": "people",
                }
            ],
            "erase": {"strategy": "keep", "reason": "a demo"},
        }
    },
}


@dataclass
class People(Holdings):
    people: dict[int, dict[str, Any]] = field(
        default_factory=lambda: {1: {"id": 1, "name": "Ada", "email": EMAIL}}
    )

    def summary(self) -> Any:
        return {"people": len(self.people)}


class PeopleHandler(Handler):
    token_path = "/oauth2/token"
    routes = routes("/v1", [("GET", "/people", "search"), ("GET", "/me", "me")], "")
    refusals: ClassVar[dict[int, Any]] = {401: {"message": "Unauthorized"}}

    def _authenticated(self) -> bool:
        return self.bearer_valid()

    def _search(self, *, body: Any) -> tuple[int, Any]:
        email = self.query.get("email", "").lower()
        people = self.standin.account.people.values()
        return 200, {"people": [p for p in people if p["email"].lower() == email]}

    def _me(self, *, body: Any) -> tuple[int, Any]:
        return 200, {"id": 1}


start = starter(PeopleHandler, People)


def _kind(**auth: Any) -> type[SaasConnector]:
    if auth.get("grant") == "refresh_token":
        auth.setdefault("secrets", ["client_id", "client_secret", "refresh_token"])
    document = {**DEFINITION, "auth": {**DEFINITION["auth"], **auth}}
    bound = parse(yaml.safe_dump(document), source="peopledemo.yaml")
    attributes = {
        "kind": bound.service,
        "label": bound.label,
        "definition": bound,
        "secret_fields": bound.secrets,
    }
    return type("PeopleDemoConnector", (SaasConnector,), attributes)


def _connector(
    standin: Service[People],
    *,
    secret: str = SECRET,
    base_url: bool = True,
    keep: list[Mapping[str, str]] | None = None,
    **auth: Any,
) -> SaasConnector:
    cls = _kind(**auth)
    secrets = {"client_id": CLIENT_ID, "client_secret": secret}
    if auth.get("grant") == "refresh_token":
        secrets["refresh_token"] = REFRESH
    config = {"token_url": f"{standin.url}/oauth2/token"}
    if base_url:
        config["base_url"] = standin.url
    return cls(
        name="people",
        config=config,
        secrets=secrets,
        keep_secrets=keep.append if keep is not None else None,
    )


def _found(connector: SaasConnector) -> int:
    return len(list(connector.access(Identity(emails=(EMAIL.upper(),)))))


@pytest.fixture
def standin() -> Iterator[Service[People]]:
    yield from running(start, SECRET, issuer=TokenIssuer(client_id=CLIENT_ID))


def test_a_token_is_fetched_once_and_shared_by_every_instance(
    standin: Service[People],
) -> None:
    assert _found(_connector(standin)) == 1
    assert _found(_connector(standin)) == 1  # another worker, the same token
    assert _connector(standin).health().status.startswith("ok")

    assert standin.issuer is not None
    assert standin.issuer.fetched == 1
    assert standin.issuer.forms == [{"grant_type": "client_credentials"}]
    assert standin.stats.by_route["search"] == 2


def test_the_client_may_authenticate_by_http_basic(standin: Service[People]) -> None:
    assert _found(_connector(standin, client_auth="basic")) == 1
    assert standin.issuer is not None
    assert standin.issuer.fetched == 1


def test_a_token_is_fetched_again_shortly_before_it_expires(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    standin.issuer.lifetime = 2  # kept 1 s (2 s less a tenth, rounded down)

    assert _found(_connector(standin)) == 1
    time.sleep(1.2)
    assert _found(_connector(standin)) == 1

    assert standin.issuer.fetched == 2
    assert standin.stats.by_route.get("search") == 2  # never refused


def test_a_refused_cached_token_is_renewed_once_then_the_call_retried(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    assert _found(_connector(standin)) == 1
    standin.issuer.revoke_tokens()  # e.g. the vendor revoked them early
    calls = standin.stats.calls

    assert _found(_connector(standin)) == 1

    assert standin.issuer.fetched == 2
    assert standin.stats.calls == calls + 2  # the 401, then the retried call


def test_a_new_token_the_api_refuses_is_not_renewed_again(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    assert _found(_connector(standin)) == 1
    standin.issuer.lifetime = -1  # every new token is dead on arrival
    standin.issuer.revoke_tokens()

    with pytest.raises(ConnectorError) as refused:
        _found(_connector(standin))

    assert refused.value.permanent
    assert "auth refused (HTTP 401) on GET /v1/people" in refused.value.message
    assert standin.issuer.fetched == 2  # the cached one, and one renewal


def test_a_refused_client_is_named_and_its_secret_is_not(
    standin: Service[People],
) -> None:
    with pytest.raises(ConnectorError) as refused:
        _connector(standin, secret="wrong-secret-123").health()

    message = refused.value.message
    assert refused.value.permanent
    assert "auth refused (HTTP 401): token endpoint refused: invalid_client" in message
    assert "(Client authentication failed)" in message
    assert "wrong-secret-123" not in message
    assert CLIENT_ID not in message


def test_a_revoked_grant_fails_naming_the_token_endpoint(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    standin.issuer.refresh_token = REFRESH
    assert _found(_connector(standin, grant="refresh_token")) == 1
    assert standin.issuer.forms[-1] == {"grant_type": "refresh_token"}
    standin.issuer.revoke_grant()  # the user removed the app's access

    with pytest.raises(ConnectorError) as refused:
        _found(_connector(standin, grant="refresh_token"))

    assert refused.value.permanent
    assert "token endpoint refused: invalid_grant" in refused.value.message
    assert REFRESH not in refused.value.message


def test_a_rotated_refresh_token_is_handed_to_the_keeper(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    standin.issuer.refresh_token, standin.issuer.rotate = REFRESH, True
    kept: list[Mapping[str, str]] = []

    connector = _connector(standin, grant="refresh_token", keep=kept)
    assert _found(connector) == 1

    assert kept == [{"refresh_token": standin.issuer.refresh_token}]
    assert standin.issuer.refresh_token != REFRESH  # the old one stopped
    # this instance refreshes with the new one when its token is refused
    standin.issuer.revoke_tokens()
    assert _found(connector) == 1
    assert len(kept) == 2
    assert kept[1]["refresh_token"] != kept[0]["refresh_token"]


def test_the_keeper_of_a_connector_row_stores_the_rotated_secret(
    db: Any,
) -> None:
    system = actor_system("tests")
    row = connector_create(
        actor=system,
        name="zendesk-rotating",
        kind="zendesk",
        config={"subdomain": "acme", "email": "agent@acme.example"},
        secrets={"api_token": "old-token-0123456789"},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    instance = row.instance()
    assert instance.keep_secrets is not None

    instance.keep_secrets({"api_token": "new-token-9876543210"})
    instance.keep_secrets({"api_token": "new-token-9876543210"})  # no change

    assert Connector.objects.get(pk=row.pk).secrets == {
        "api_token": "new-token-9876543210"
    }
    events = AuditEvent.objects.filter(action="connector.secrets_rotated")
    assert [event.data for event in events] == [
        {"name": "zendesk-rotating", "secrets_changed": ["api_token"]}
    ]


def test_the_api_base_url_may_come_from_the_token_answer(
    standin: Service[People],
) -> None:
    assert standin.issuer is not None
    standin.issuer.instance_url = ""  # the stand-in's own URL

    # no base_url in the config: the definition's host is never reached
    found = _found(_connector(standin, base_url=False, base_url_from="instance_url"))

    assert found == 1
    standin.issuer.instance_url = "http://insecure.example.com"
    standin.issuer.revoke_tokens()
    from django.core.cache import cache

    cache.clear()
    with pytest.raises(ConnectorError, match="instance_url is not an https URL"):
        _found(_connector(standin, base_url=False, base_url_from="instance_url"))


def test_an_oauth2_definition_names_the_secrets_of_its_grant() -> None:
    for auth, ok in [
        ({"grant": "refresh_token", "secrets": ["client_id", "client_secret"]}, False),
        (
            {
                "grant": "refresh_token",
                "secrets": ["client_id", "client_secret", "refresh_token"],
            },
            True,
        ),
        ({"token_url": "http://plain.example.com/token"}, False),
        ({"client_auth": "header"}, False),
    ]:
        if ok:
            assert _kind(**auth).secret_fields[-1] == "refresh_token"
            continue
        with pytest.raises(DefinitionError, match="auth"):
            _kind(**auth)
    schema = _kind().config_schema()
    assert "token_url" in schema["properties"]
    with pytest.raises(Exception, match="must use https") as refused:
        _kind().validate_config({"token_url": "http://idp.example.com/token"})
    assert getattr(refused.value, "field", "") == "config.token_url"
