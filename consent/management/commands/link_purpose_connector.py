"""Declare that a connector honours a purpose, and what a withdrawal does there."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from connectors.models import Connector
from consent.selectors import purpose_get
from consent.services.policies import purpose_connector_link
from privacydesk.errors import DomainError


class Command(BaseCommand):
    help = (
        "Link a purpose to a connector. For sql connectors the action is e.g. "
        '\'{"set": {"table": "customers", "column": "ai_training_opt_out", '
        "\"value\": true}}' (a table of the connector's map); for http and pull "
        "connectors any JSON object, sent to the store as the job's instructions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("purpose")
        parser.add_argument("connector", help="the connector's name")
        parser.add_argument("--action", required=True, help="JSON")
        parser.add_argument("--disabled", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        purpose = purpose_get(slug=options["purpose"])
        if purpose is None:
            raise CommandError(f"no purpose {options['purpose']!r}")
        connector = Connector.objects.filter(name=options["connector"]).first()
        if connector is None:
            raise CommandError(f"no connector {options['connector']!r}")
        try:
            action = json.loads(options["action"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--action is not JSON: {exc}") from exc
        try:
            purpose_connector_link(
                actor=actor_system("link_purpose_connector"),
                purpose=purpose,
                connector=connector,
                action=action,
                enabled=not options["disabled"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(f"Linked {purpose.slug} to {connector.name}")
