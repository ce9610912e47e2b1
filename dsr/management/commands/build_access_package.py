"""Build (again) the access package of a request, e.g. after staff completed
the stores' disclosure information that blocked it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.models import Request
from dsr.services.packages import access_package_build_and_close


class Command(BaseCommand):
    help = "Build the access package of a finished access or portability request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", help="e.g. DSR-2026-000123")

    def handle(self, *args: Any, **options: Any) -> None:
        request = Request.objects.filter(reference=options["reference"]).first()
        if request is None:
            raise CommandError(f"no request {options['reference']}")
        result = access_package_build_and_close(request_id=request.pk)
        self.stdout.write(f"{request.reference}: {result}")
        if result == "refused":
            raise CommandError("refused: the request's notes say why")
