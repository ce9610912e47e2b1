from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from audit.accounts import api_client_create
from privacydesk.errors import DomainError


class Command(BaseCommand):
    help = "Create an API client; its token is printed once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            required=True,
            help="comma-separated, e.g. requests:read,requests:write",
        )

    def handle(self, *args: object, **options: str) -> None:
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            client, token = api_client_create(
                actor=actor_system("create_api_client"),
                name=options["name"],
                scopes=scopes,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(f"Created API client {client.name} ({client.public_id})")
        self.stdout.write(f"Scopes: {', '.join(client.scopes)}")
        self.stdout.write(
            "Token (shown once; send as 'Authorization: Bearer <token>'):"
        )
        self.stdout.write(token)
