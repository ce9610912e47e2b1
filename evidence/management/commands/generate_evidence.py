"""Generate an evidence pack now, for a request or a purge run."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_system
from dsr.models import Request
from evidence.services import (
    evidence_pack_generate,
    evidence_pack_generate_for_run,
)
from retention.models import PurgeRun


class Command(BaseCommand):
    help = "Generate (and record) the evidence pack of a request or a purge run."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--request", help="a request reference, e.g. DSR-2026-000123"
        )
        target.add_argument("--run", help="a purge run's public id")
        parser.add_argument("--output", "-o", help="also write the PDF to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_system("generate_evidence")
        if options["request"]:
            request = Request.objects.filter(reference=options["request"]).first()
            if request is None:
                raise CommandError(f"no request {options['request']}")
            result = evidence_pack_generate(actor=actor, request=request)
        else:
            try:
                run_id = uuid.UUID(options["run"])
            except ValueError as exc:
                raise CommandError(f"not a purge run id: {options['run']}") from exc
            run = PurgeRun.objects.filter(public_id=run_id).first()
            if run is None:
                raise CommandError(f"no purge run {options['run']}")
            result = evidence_pack_generate_for_run(actor=actor, run=run)
        pack = result.pack
        self.stdout.write(
            f"evidence pack {pack.public_id}: {pack.pages} page(s), {pack.size} bytes, "
            f"sha256 {pack.sha256}"
        )
        if options["output"]:
            Path(options["output"]).write_bytes(result.content)
            self.stdout.write(f"written to {options['output']}")
