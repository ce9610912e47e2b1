"""Seed the demo: staff logins, requests and the demo stores (idempotent).

A composition root: it wires each app's demo data, in order. The requests
come before the stores' connectors, so the demo's requests keep their varied
states instead of fanning out to the stores at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from breaches.demo import breach_demo_seed
from connectors.demo.config import (
    DEMO_CUSTOMERS,
    DEMO_MEMORY_CUSTOMERS,
    demo_stores_seed,
)
from connectors.demo.content import customer as demo_customer
from consent.demo import DEMO_PURPOSE, DEMO_STORE, consent_demo_seed
from dsr.demo import DEMO_PASSWORD, DEMO_STAFF, demo_seed
from records.demo import records_demo_seed
from training.demo import DEMO_DATASET, training_demo_seed


class Command(BaseCommand):
    help = (
        "Create demo staff users, a dozen demo requests, the demo stores, the "
        "records of processing, a training dataset and an open breach; safe to "
        "run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even outside embedded mode (never on a real deployment)",
        )

    def handle(self, *args: object, **options: Any) -> None:
        # The demo logins share one published password: they must never
        # appear on a production deployment by accident.
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError(
                "refusing to seed demo logins with PRIVACYDESK_EMBEDDED=false "
                "(pass --force for a throw-away environment)"
            )
        summary = demo_seed()
        stores = demo_stores_seed(settings.VAR_DIR / "demo")
        created = ", ".join(summary.users_created) or "none"
        self.stdout.write(
            f"Staff users: created {created}; "
            f"{len(summary.users_existing)} existed already."
        )
        self.stdout.write(
            f"Demo requests: created {len(summary.requests_created)}, "
            f"{summary.requests_existing} existed already."
        )
        states = ", ".join(
            f"{status} {count}" for status, count in sorted(summary.statuses.items())
        )
        self.stdout.write(f"Demo requests by status: {states or 'none'}")
        for name, made in stores:
            self.stdout.write(
                f"Connector {name}: {'created' if made else 'exists already'}"
            )
        if consent_demo_seed():
            self.stdout.write(
                f"Consent: a withdrawal of {DEMO_PURPOSE} is now sent to "
                f"{DEMO_STORE} (sets customers.ai_training_opt_out)."
            )
        records = records_demo_seed()
        self.stdout.write(
            "Records of processing: "
            + ("officer's part filled in" if records.officer_part else "kept as is")
            + (
                f"; assistant purpose linked to {', '.join(records.links)}"
                if records.links
                else ""
            )
            + "."
        )
        training = training_demo_seed()
        self.stdout.write(
            f"Training dataset {DEMO_DATASET}: registered "
            f"{', '.join(training.registered) or 'no version'}; "
            f"{training.existing} existed already."
        )
        breach = breach_demo_seed()
        self.stdout.write(
            f"Breach register: {breach.reference} "
            f"{'recorded' if breach.created else 'exists already'} (an open "
            "incident whose 72-hour clock is past its first warning)."
        )
        sample = demo_customer(7)
        self.stdout.write(
            f"The demo helpdesk holds {DEMO_CUSTOMERS} customers; try a request "
            f"for {sample.email} (customer {sample.crm_id}). The assistant's "
            f"memory (support-memory) holds customers 1-{DEMO_MEMORY_CUSTOMERS}'s "
            "conversations."
        )
        if summary.users_created:
            logins = ", ".join(staff.username for staff in DEMO_STAFF)
            self.stdout.write(f"Logins ({logins}) use the password {DEMO_PASSWORD!r}.")
