"""The demo's consent wiring: the demo helpdesk honours "ai_training".

So that a customer's withdrawal on the portal visibly changes the demo store:
the customer's row in the helpdesk gets `ai_training_opt_out = true`
(Dashboard → Consent → Withdrawals sent to stores shows the job).
Idempotent: a link the officer changed or removed is left as it is once made.
"""

from __future__ import annotations

from accounts.actors import actor_system
from connectors.models import Connector
from consent.models import PurposeConnector
from consent.selectors import purpose_get
from consent.services.policies import purpose_connector_link

DEMO_PURPOSE = "ai_training"
DEMO_STORE = "helpdesk"
DEMO_ACTION = {
    "set": {"table": "customers", "column": "ai_training_opt_out", "value": True}
}


def consent_demo_seed() -> bool:
    """Link the demo purpose to the demo helpdesk; True when created now."""
    purpose = purpose_get(slug=DEMO_PURPOSE)
    connector = Connector.objects.filter(name=DEMO_STORE).first()
    if purpose is None or connector is None:
        return False
    if PurposeConnector.objects.filter(purpose=purpose, connector=connector).exists():
        return False
    purpose_connector_link(
        actor=actor_system("seed_demo"),
        purpose=purpose,
        connector=connector,
        action=DEMO_ACTION,
    )
    return True
