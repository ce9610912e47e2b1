"""A complete Art. 15 disclosure for tests that write connectors.

The services refuse a store an access letter could not explain
(connectors.disclosure), so every connector written through them says all
six items; tests about the disclosure itself change one item of this.
"""

from __future__ import annotations

from typing import Any

DISCLOSURE: dict[str, Any] = {
    "purposes": ["Answering support questions"],
    "recipients": [{"name": "Helpdesk Cloud Ltd", "role": "processor"}],
    "retention": "Three years after the last ticket",
    "source": "The customer, when they wrote to support",
    "automated_decision_making": {"not_applicable": "no solely automated decisions"},
    "transfers": {"not_applicable": "the data stays in the EU"},
}
CATEGORIES = ["contact"]
