"""The Azure OpenAI variant of the stand-in: the same stored Chat
Completions under a resource's `/openai/v1/` (the v1 API, no api-version),
reached with a Microsoft Entra ID access token (OAuth2 client credentials
at a token endpoint of its own, `/oauth2/v2.0/token`; the client secret is
the stand-in's `token`).

    standin = start(token="entra-client-secret")   # standins.azure_openai
    standin.url, standin.account, standin.issuer, standin.stats
"""

from __future__ import annotations

from typing import Any

from standins.http import routes, starter
from standins.oauth import TokenIssuer
from standins.openai.server import ROUTES, OpenAIHandler, StandIn
from standins.openai.state import Account

CLIENT_ID = "5f0c1e7a-6d3b-4c2a-9e8f-1a2b3c4d5e6f"  # the app registration
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PER_MINUTE = 300


class AzureHandler(OpenAIHandler):
    routes = routes("/openai/v1/", ROUTES, suffix="")
    token_path = "/oauth2/v2.0/token"

    def _authenticated(self) -> bool:
        return self.bearer_valid()


_start = starter(AzureHandler, Account.seeded, per_window=PER_MINUTE)


def start(
    account: Account | None = None, *, token: str, port: int = 0, **options: Any
) -> StandIn:
    """A resource whose Entra app is CLIENT_ID with `token` as its secret."""
    options.setdefault("issuer", TokenIssuer(client_id=CLIENT_ID, lifetime=3599))
    return _start(account, token=token, port=port, **options)
