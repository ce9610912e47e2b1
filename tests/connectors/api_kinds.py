"""Connector kinds as an integrator sets them up over the API: a realistic
config per kind, what the API answers for it, and a valid request body."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from audit.models import AuditEvent
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite
from connectors.registry import KINDS, SAAS
from standins.azure_openai.server import CLIENT_ID as AZURE_CLIENT_ID
from standins.azure_openai.server import TENANT_ID as AZURE_TENANT_ID
from standins.helpscout.state import CLIENT_ID as HELPSCOUT_CLIENT_ID
from standins.salesforce.state import CLIENT_ID as SALESFORCE_CLIENT_ID
from tests.disclosure import DISCLOSURE

URL = "/api/v1/connectors/"
READ, WRITE = "connectors:read", "connectors:write"
SECRET = "pw-7f3c9a1e5b-never-returned"
ALL = ["access", "rectify", "erase", "verify_erasure", "restrict", "object"]


@dataclass(frozen=True)
class KindCase:
    """One kind as an integrator sets it up, and what the API answers."""

    config: Callable[[Path], dict[str, Any]]
    patch: Callable[[dict[str, Any]], dict[str, Any]]  # a config change
    actions: list[str]  # once created
    patched_actions: list[str]  # after the patch
    kind_actions: list[str]
    health: str  # the answer of `test` right after creating
    secrets: dict[str, str] = field(default_factory=dict)


SAAS_ACTIONS = ["access", "rectify", "erase", "verify_erasure"]


def saas_case(
    *,
    config: Callable[[Path], dict[str, Any]],
    patch: Callable[[dict[str, Any]], dict[str, Any]],
    secrets: dict[str, str],
) -> KindCase:
    """A support-SaaS kind: every action, healthy once created (its
    stand-in answers)."""
    return KindCase(
        config=config,
        patch=patch,
        actions=list(SAAS_ACTIONS),
        patched_actions=list(SAAS_ACTIONS),
        kind_actions=list(SAAS_ACTIONS),
        health="ok",
        secrets=secrets,
    )


VECTOR_ACTIONS = ["access", "erase", "verify_erasure"]


def vector_case(
    *,
    config: Callable[[Path], dict[str, Any]],
    patch: Callable[[dict[str, Any]], dict[str, Any]],
    secrets: dict[str, str] | None = None,
) -> KindCase:
    """A vector-store kind (connectors/kinds/vectors): access, erase and
    verify, healthy once created (its store holds the collections)."""
    return KindCase(
        config=config,
        patch=patch,
        actions=list(VECTOR_ACTIONS),
        patched_actions=list(VECTOR_ACTIONS),
        kind_actions=list(VECTOR_ACTIONS),
        health="ok",
        secrets=secrets or {},
    )


def qdrant_config(folder: Path) -> dict[str, Any]:
    from tests.connectors.vector_points import qdrant_local_store

    store = qdrant_local_store(folder / "qdrant", collections=("memory", "summaries"))
    return {
        "path": str(store),
        "collections": ["memory"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    }


def pgvector_config(_: Path) -> dict[str, Any]:
    """LangChain's tables, seeded, in a database of a real pgvector server."""
    from tests.connectors.pgvector_store import langchain_config, seed_langchain
    from tests.pgvector_server import fresh_database, process_server

    url = fresh_database(process_server())
    seed_langchain(url, per_collection=5)
    return {**langchain_config(url), "collections": ["support_memory"]}


def weaviate_config(_: Path) -> dict[str, Any]:
    return {
        "url": standin_url("weaviate"),
        "collections": ["SupportMemory"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    }


def chroma_config(folder: Path) -> dict[str, Any]:
    from tests.connectors.chroma_points import chroma_local_store

    store = chroma_local_store(folder / "chroma", ("memory", "summaries"))
    return {
        "path": str(store),
        "collections": ["memory"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    }


def sql_config(folder: Path) -> dict[str, Any]:
    store = folder / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=12))
    return {"dsn": f"sqlite:///{store}", "tables": copy.deepcopy(SQL_CONNECTOR_TABLES)}


def without_flags(config: dict[str, Any]) -> dict[str, Any]:
    """The map with no restriction or objection column: the store can then
    neither restrict nor record an objection by itself."""
    tables = copy.deepcopy(config["tables"])
    for table in tables:
        table.pop("restrict_column", None)
        table.pop("objection_column", None)
    return {**config, "tables": tables}


def files_config(folder: Path) -> dict[str, Any]:
    chats = folder / "chats"
    chats.mkdir()
    (chats / "2026-01.jsonl").write_text(
        json.dumps({"id": "c-1", "customer": {"email": "a@example.com"}}) + "\n"
    )
    return {
        "folder": str(chats),
        "identity": {"email": "customer.email"},
        "text_fields": ["messages[].text"],
        "erase": "redact_pii",
    }


_STANDINS: dict[str, Any] = {}


def standin_url(service: str) -> str:
    """The URL of a stand-in of `service` (standins.<service>, one per test
    process) whose API token or key is SECRET."""
    if service not in _STANDINS:
        _STANDINS[service] = import_module(f"standins.{service}").start(token=SECRET)
    return str(_STANDINS[service].url)


def zendesk_config(_: Path) -> dict[str, Any]:
    return {
        "subdomain": "acme",
        "email": "agent@example.com",
        "base_url": standin_url("zendesk"),
    }


def freshdesk_config(_: Path) -> dict[str, Any]:
    return {"domain": "acme", "base_url": standin_url("freshdesk"), "page_size": 2}


def intercom_config(_: Path) -> dict[str, Any]:
    return {"api_host": "api.eu.intercom.io", "base_url": standin_url("intercom")}


def hubspot_config(_: Path) -> dict[str, Any]:
    return {"base_url": standin_url("hubspot")}


def gorgias_config(_: Path) -> dict[str, Any]:
    return {
        "domain": "acme",
        "email": "agent@example.com",
        "base_url": standin_url("gorgias"),
    }


def front_config(_: Path) -> dict[str, Any]:
    return {"base_url": standin_url("front")}


def openai_config(_: Path) -> dict[str, Any]:
    return {"base_url": standin_url("openai"), "subject_key": "subject_id"}


def azure_openai_config(_: Path) -> dict[str, Any]:
    url = standin_url("azure_openai")
    return {
        "resource": "acme-support-bot",
        "tenant_id": AZURE_TENANT_ID,
        "base_url": f"{url}/openai",
        "token_url": f"{url}/oauth2/v2.0/token",
    }


def salesforce_config(_: Path) -> dict[str, Any]:
    url = standin_url("salesforce")  # the API's URL: the token's instance_url
    return {"my_domain": "acme", "token_url": f"{url}/services/oauth2/token"}


def helpscout_config(_: Path) -> dict[str, Any]:
    url = standin_url("helpscout")
    return {"base_url": f"{url}/v2", "token_url": f"{url}/v2/oauth2/token"}


# every kind a definition file makes (a new one is tested with no edit here)
SAAS_KINDS = [kind for kind, path in KINDS.items() if path.startswith(SAAS)]
# every kind on the vector-store base (connectors/kinds/vectors/base.py)
VECTOR_KINDS = [kind for kind, path in KINDS.items() if ".kinds.vectors." in path]

CASES: dict[str, KindCase] = {
    "sql": KindCase(
        config=sql_config,
        patch=without_flags,
        actions=ALL,
        patched_actions=["access", "rectify", "erase", "verify_erasure"],
        kind_actions=ALL,
        health="ok",
        secrets={"password": SECRET},
    ),
    "http": KindCase(
        config=lambda _: {"url": "https://crm.example.com/dsr", "timeout_seconds": 5},
        patch=lambda config: {**config, "actions": ["access", "erase"]},
        actions=ALL,
        patched_actions=["access", "erase"],
        kind_actions=ALL,
        health="ok",
        secrets={"signing_key": SECRET},
    ),
    "pull": KindCase(
        config=lambda _: {"lease_seconds": 300},
        patch=lambda config: {**config, "actions": ["access"]},
        actions=ALL,
        patched_actions=["access"],
        kind_actions=ALL,
        health="error",  # no agent has called in yet
    ),
    "files": KindCase(
        config=files_config,
        patch=lambda config: {**config, "pattern": "2026-*.jsonl"},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="ok",
    ),
    "manual": KindCase(
        config=lambda _: {
            "instructions": "Find the customer in the billing tool and do it.",
            "assignee_email": "billing@example.com",
        },
        patch=lambda config: {**config, "assignee_email": "finance@example.com"},
        actions=ALL,
        patched_actions=ALL,
        kind_actions=ALL,
        health="ok",
    ),
    "zendesk": saas_case(
        config=zendesk_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 200},
        secrets={"api_token": SECRET},
    ),
    "freshdesk": saas_case(
        config=freshdesk_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 400},
        secrets={"api_key": SECRET},
    ),
    "intercom": saas_case(
        config=intercom_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 600},
        secrets={"access_token": SECRET},
    ),
    "hubspot": saas_case(
        config=hubspot_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 600},
        secrets={"access_token": SECRET},
    ),
    "gorgias": saas_case(
        config=gorgias_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 240},
        secrets={"api_key": SECRET},
    ),
    "opendsr": KindCase(
        # a closed port on this machine: the processor is not reached
        config=lambda _: {
            "base_url": "http://127.0.0.1:9/v1",
            "processor_domain": "127.0.0.1",
        },
        patch=lambda config: {**config, "timeout_seconds": 30},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="error",
        secrets={"token": SECRET},
    ),
    "front": saas_case(
        config=front_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 200},
        secrets={"api_token": SECRET},
    ),
    "salesforce": saas_case(
        config=salesforce_config,
        patch=lambda config: {**config, "job_wait_seconds": 120},
        secrets={"client_id": SALESFORCE_CLIENT_ID, "client_secret": SECRET},
    ),
    "openai": KindCase(
        config=openai_config,
        # an organisation approved for Zero Data Retention
        patch=lambda config: {**config, "abuse_monitoring_days": 0},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="ok",
        secrets={"api_key": SECRET},
    ),
    "azure_openai": KindCase(
        config=azure_openai_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 600},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="ok",
        secrets={"client_id": AZURE_CLIENT_ID, "client_secret": SECRET},
    ),
    "pgvector": vector_case(
        config=pgvector_config,
        patch=lambda config: {**config, "collections": ["support_memory", "order_faq"]},
        secrets={"password": SECRET},
    ),
    "qdrant": vector_case(
        config=qdrant_config,
        patch=lambda config: {**config, "collections": ["memory", "summaries"]},
    ),
    "weaviate": vector_case(
        config=weaviate_config,
        patch=lambda config: {
            **config,
            "collections": ["SupportMemory", "TicketSummary"],
        },
        secrets={"api_key": SECRET},
    ),
    "chroma": vector_case(
        config=chroma_config,
        patch=lambda config: {**config, "collections": ["memory", "summaries"]},
    ),
    "helpscout": KindCase(
        config=helpscout_config,
        patch=lambda config: {**config, "rate_limit_per_minute": 400},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="ok",
        secrets={"client_id": HELPSCOUT_CLIENT_ID, "client_secret": SECRET},
    ),
}


def connector_body(of: str, folder: Path, **overrides: Any) -> dict[str, Any]:
    """A valid body for a connector of the kind `of`; `overrides` replace keys."""
    case = CASES[of]
    body: dict[str, Any] = {
        "name": f"{of}-store",
        "kind": of,
        "config": case.config(folder),
        "data_categories": ["contact", "support_ticket"],
        "disclosure": DISCLOSURE,
    }
    if case.secrets:
        body["secrets"] = case.secrets
    body.update(overrides)
    return body


def connector_events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="connector.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
