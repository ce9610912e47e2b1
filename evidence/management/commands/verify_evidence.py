"""Check an evidence pack PDF against this Privacy Desk's audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.packs.verify import evidence_pack_verify


class Command(BaseCommand):
    help = (
        "Verify an evidence pack: its embedded evidence.json, the audit events it "
        "lists and the chain through them. Prints OK or every difference; exits "
        "non-zero on any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="the evidence pack, e.g. DSR-2026-000123-evidence.pdf"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        report = evidence_pack_verify(content=content)
        if report.subject:
            self.stdout.write(
                f"Evidence pack for {report.subject}, generated "
                f"{report.generated_at or '?'} (pack {report.pack_id or '?'})"
            )
        for line in report.checks:
            self.stdout.write(f"  ok       {line}")
        for line in report.problems:
            self.stdout.write(f"  DIFFERS  {line}")
        if not report.ok:
            raise CommandError(
                f"{path.name} does NOT verify: {len(report.problems)} difference(s)"
            )
        self.stdout.write("OK")
