"""Write the training-exclusion export file (CSV or JSON Lines)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.actors import actor_system
from training.exports import FORMATS, export_lines
from training.selectors import feed_cursor


class Command(BaseCommand):
    help = (
        "Write every training exclusion in force (export blind indexes and "
        "conversation ids, never an identity) as CSV or JSON Lines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv")
        parser.add_argument(
            "--output", help="file to write (default: standard output)", default=""
        )

    def handle(self, *args: object, **options: Any) -> None:
        cursor = feed_cursor()
        lines = export_lines(
            actor=actor_system("training_exclusions_export"),
            file_format=options["format"],
        )
        if options["output"]:
            with Path(options["output"]).open("w", encoding="utf-8") as out:
                out.writelines(lines)
        else:
            sys.stdout.writelines(lines)
        # on stderr, so standard output stays the file alone
        self.stderr.write(f"Feed cursor at export: {cursor} (follow the feed from it)")
