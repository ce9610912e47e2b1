"""Record any training exclusion a lost message left out (safe to repeat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from training.services.triggers import exclusions_sync


class Command(BaseCommand):
    help = (
        "Exclude from training every verified erasure and objection and every "
        "withdrawal of the model-training consent not yet on the list, and lift "
        "withdrawals since granted again."
    )

    def handle(self, *args: object, **options: Any) -> None:
        looked_at = exclusions_sync()
        self.stdout.write(f"Looked at {looked_at} request(s) or subject(s).")
