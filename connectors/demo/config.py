"""The demo connectors: their configuration, disclosures and seed.

``SQL_CONNECTOR_TABLES`` maps the helpdesk store for the sql kind (the
benchmarks and tests use it too), ``FILES_CONNECTOR_CONFIG`` the chat
transcripts for the files kind, ``MEMORY_CONNECTOR_CONFIG`` the assistant's
vector memory (embedded Qdrant, linked to the helpdesk's tickets);
``demo_stores_seed`` builds the stores and creates their connectors.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from accounts.actors import actor_system
from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite, build_transcripts
from connectors.demo.vectors import COLLECTION, build_qdrant, memory_points
from connectors.models import Connector
from connectors.services import connector_create

# The connector map the issue asks for: the customer row survives anonymised,
# ticket and message texts are redacted, AI logs are deleted.
SQL_CONNECTOR_TABLES: list[dict[str, Any]] = [
    {
        "table": "customers",
        "key": "id",
        "category": "contact",
        "identity": {
            "email": "email",
            "phone": "phone",
            "customer_id": {"column": "crm_id", "system": "crm"},
        },
        "name_column": "name",
        "restrict_column": "restricted",
        "objection_column": "objected",
        "erase": {
            "email": "hash",
            "name": "null",
            "phone": "null",
            "crm_id": "pseudonymize",
        },
    },
    {
        "table": "tickets",
        "key": "id",
        "category": "support_ticket",
        "parent": {"table": "customers", "column": "customer_id"},
        "erase": {"subject": "redact_pii"},
    },
    {
        "table": "messages",
        "key": "id",
        "category": "support_message",
        "parent": {"table": "tickets", "column": "ticket_id"},
        "erase": {"body": "redact_pii"},
    },
    {
        "table": "ai_conversations",
        "key": "id",
        "category": "ai_conversation",
        "identity": {"email": "customer_email"},
        "erase": "delete",
    },
]

FILES_CONNECTOR_CONFIG: dict[str, Any] = {
    "pattern": "*.jsonl",
    "identity": {
        "email": "customer.email",
        "phone": "customer.phone",
        "customer_id": {"path": "customer.id", "system": "crm"},
    },
    "text_fields": ["messages[].text", "summary"],
    "erase": "redact_pii",
}


MEMORY_CONNECTOR_CONFIG: dict[str, Any] = {
    "collections": [COLLECTION],
    "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    "category": "ai_memory",
}


# What the subject is told about each demo store (GDPR 15(1)(a)-(h), 15(2)).
HELPDESK_DISCLOSURE: dict[str, Any] = {
    "purposes": [
        "Answering your support requests",
        "Handling orders, deliveries and refunds",
    ],
    "recipients": [
        "Example Helpdesk Cloud Ltd, Dublin (processor hosting our helpdesk)",
        "Example Couriers GmbH (delivery questions only)",
    ],
    "retention": "Tickets and messages are kept 24 months after the last reply.",
    "source": "You, when you contacted support; order data from our web shop.",
    "automated_decision_making": {"not_applicable": "No automated decisions are made."},
    "transfers": {"not_applicable": "The helpdesk is hosted in the EU."},
    "title": "Support helpdesk",
    "category_names": {
        "contact": "Your contact details",
        "support_ticket": "Your support tickets",
        "support_message": "Messages between you and our support team",
        "ai_conversation": "Your conversations with our AI assistant",
    },
}
TRANSCRIPTS_DISCLOSURE: dict[str, Any] = {
    "purposes": [
        "Answering you through our AI assistant",
        "Quality review of the assistant's answers",
    ],
    "recipients": [
        "Example AI Hosting BV, Amsterdam (processor running the assistant)"
    ],
    "retention": "Chat transcripts are kept 12 months.",
    "source": "You, in conversations with our chat assistant.",
    "automated_decision_making": {
        "logic": "The assistant suggests answers; refunds over 50 EUR go to a person.",
        "significance": "It can approve small refunds automatically.",
        "consequences": "A refused automatic refund is always reviewed by staff.",
    },
    "transfers": {"not_applicable": "Transcripts stay in the EU."},
    "title": "Chats with our AI assistant",
    "category_names": {"ai_conversation": "Your chat conversations"},
}
MEMORY_DISCLOSURE: dict[str, Any] = {
    "purposes": ["Letting our AI assistant recall earlier conversations with you"],
    "recipients": [
        "Example AI Hosting BV, Amsterdam (processor running the assistant)"
    ],
    "retention": "Kept as long as the conversations it was computed from.",
    "source": "Computed from your support tickets and chats with the assistant.",
    "automated_decision_making": {
        "not_applicable": "The memory only helps the assistant answer."
    },
    "transfers": {"not_applicable": "The memory stays in the EU."},
    "title": "AI assistant memory",
    "category_names": {
        "ai_memory": "What our AI assistant remembers of your conversations"
    },
}
DEMO_CUSTOMERS = 2000
# The assistant's memory holds the conversations of the first customers only:
# the embedded store writes each point in its own transaction (seconds for
# hundreds), and the demo needs a few customers to erase.
DEMO_MEMORY_CUSTOMERS = 20


def demo_stores_seed(folder: Path) -> list[tuple[str, bool]]:
    """Build the demo helpdesk and transcript stores under `folder`, and their
    connectors. Idempotent: an existing store or connector is left as it is.

    Returns (connector name, created?) pairs."""
    store = folder / "helpdesk.sqlite3"
    transcripts = folder / "transcripts"
    if not store.exists():
        build_sqlite(store, StoreSize(customers=DEMO_CUSTOMERS))
    if not any(transcripts.glob("*.jsonl")):
        build_transcripts(transcripts, DEMO_CUSTOMERS)
    memory = folder / "memory"
    if not memory.exists():  # built aside, then moved in: present = complete
        building = Path(tempfile.mkdtemp(prefix="memory.building-", dir=folder))
        build_qdrant(
            building, memory_points(StoreSize(customers=DEMO_MEMORY_CUSTOMERS))
        )
        try:
            building.rename(memory)
        except OSError:  # another process seeding at once moved its own in
            shutil.rmtree(building)
    helpdesk = {
        "dsn": f"sqlite:///{store}",
        "tables": SQL_CONNECTOR_TABLES,
        "conversations": "tickets",
    }
    memory_config: dict[str, Any] = {"path": str(memory), **MEMORY_CONNECTOR_CONFIG}
    existing = Connector.objects.filter(name="helpdesk").first()
    if existing is None or existing.config.get("conversations"):
        memory_config["link"] = "helpdesk"  # (a helpdesk seeded before lists none)
    wanted = [
        (
            "helpdesk",
            "sql",
            helpdesk,
            ["contact", "support_ticket", "support_message", "ai_conversation"],
            HELPDESK_DISCLOSURE,
        ),
        (
            "chat-transcripts",
            "files",
            {"folder": str(transcripts), **FILES_CONNECTOR_CONFIG},
            ["ai_conversation"],
            TRANSCRIPTS_DISCLOSURE,
        ),
        ("support-memory", "qdrant", memory_config, ["ai_memory"], MEMORY_DISCLOSURE),
    ]
    results = []
    for name, kind, config, categories, disclosure in wanted:
        if Connector.objects.filter(name=name).exists():
            results.append((name, False))
            continue
        connector_create(
            actor=actor_system("seed_demo"),
            name=name,
            kind=kind,
            config=config,
            data_categories=categories,
            disclosure=disclosure,
        )
        results.append((name, True))
    return results
