"""Run a connector's health check from the command line (recorded and audited)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from connectors.models import Connector
from connectors.services import connector_check_health


class Command(BaseCommand):
    help = "Check the health of one connector (by name) or of all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "name", nargs="?", help="the connector's name; omit for all"
        )

    def handle(self, *args: object, **options: Any) -> None:
        connectors = Connector.objects.order_by("name")
        if options["name"]:
            connectors = connectors.filter(name=options["name"])
            if not connectors.exists():
                raise CommandError(f"no connector named {options['name']!r}")
        actor = actor_system("cli")
        failing = 0
        for connector in connectors:
            checked = connector_check_health(actor=actor, connector=connector)
            failing += checked.health != "ok"
            style = self.style.SUCCESS if checked.health == "ok" else self.style.ERROR
            self.stdout.write(
                style(f"{checked.name} ({checked.kind}): {checked.health}")
                + f" - {checked.health_detail}"
            )
            # Warnings leave the store healthy (the exit status stays 0).
            for warning in checked.health_warnings:
                self.stdout.write(
                    self.style.WARNING(f"  warning: {warning['message']}")
                )
                if warning.get("fix"):
                    self.stdout.write(f"    fix: {warning['fix']}")
        if failing:
            raise CommandError(f"{failing} connector(s) failing")
