"""Print a signed link to a subject's consent page, for support staff to send."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.links import consent_page_url
from privacydesk.errors import ValidationFailed
from subjects.claims import identity_claims
from subjects.selectors import subject_find


class Command(BaseCommand):
    help = (
        "Print a link to the consent page of the subject with this e-mail "
        "address. Send it only to that address: whoever holds it can change "
        "that person's consents until it expires."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the subject's e-mail address")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            claims = identity_claims({"email": options["email"]})
        except ValidationFailed as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        subject = subject_find(claims=claims)
        if subject is None:
            raise CommandError("no data subject with that e-mail address")
        self.stdout.write(consent_page_url(str(subject.public_id)))
