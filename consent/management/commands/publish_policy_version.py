"""Publish new wording for a purpose from a text file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from consent.selectors import purpose_get
from consent.services.policies import policy_version_publish
from privacydesk.errors import DomainError


class Command(BaseCommand):
    help = (
        "Publish a policy version (the exact text shown to subjects). With "
        "--material, existing grants need renewal until subjects consent again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("purpose", help="purpose slug, e.g. ai_training")
        parser.add_argument("version", help="version label, e.g. 2026-12")
        parser.add_argument("text_file", type=Path, help="UTF-8 file with the text")
        parser.add_argument("--material", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        purpose = purpose_get(slug=options["purpose"])
        if purpose is None:
            raise CommandError(f"no purpose {options['purpose']!r}")
        try:
            text = options["text_file"].read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read the text file: {exc}") from exc
        try:
            version = policy_version_publish(
                actor=actor_system("publish_policy_version"),
                purpose=purpose,
                version=options["version"],
                text=text,
                material=options["material"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(
            f"Published {purpose.slug} {version.version} "
            f"({'material' if version.material else 'not material'}), "
            f"sha256 {version.sha256}"
        )
