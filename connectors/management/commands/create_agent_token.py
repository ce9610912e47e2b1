from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from connectors.agent_tokens import agent_token_create, pull_connector_get
from privacydesk.errors import DomainError


class Command(BaseCommand):
    help = (
        "Issue a pull agent's token, bound to one pull connector; the token is "
        "printed once, on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connector", help="the pull connector's name")
        parser.add_argument(
            "--name", default="", help="the client's name (default agent-<connector>-N)"
        )

    def handle(self, *args: object, **options: str) -> None:
        try:
            connector = pull_connector_get(name=options["connector"])
            client, token = agent_token_create(
                actor=actor_system("create_agent_token"),
                connector=connector,
                name=options["name"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(
            f"Created agent client {client.name} ({client.public_id}) "
            f"for connector {connector.name}"
        )
        self.stdout.write(
            "Token (shown once; send as 'Authorization: Bearer <token>'):"
        )
        self.stdout.write(token)
