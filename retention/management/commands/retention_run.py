"""Run retention policies now, in this process, with a progress line.

python manage.py retention_run                 # every enabled policy
python manage.py retention_run --policy NAME   # one policy (even if disabled)
python manage.py retention_run --dry-run       # count, change nothing
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import actor_system
from privacydesk.errors import DomainError
from retention.choices import RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.services.policies import retention_builtin_ensure
from retention.services.runs import purge_run_start

PROGRESS_EVERY_SECONDS = 1.0


class Progress:
    """One line per policy, rewritten in place on a terminal and printed at
    most once a second otherwise: rows so far, batches, rows per second."""

    def __init__(self, command: BaseCommand, name: str) -> None:
        self.out = command.stdout
        self.name = name
        self.started = time.monotonic()
        self.last_shown = 0.0
        self.tty = bool(getattr(self.out._out, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, run: PurgeRun) -> None:
        now = time.monotonic()
        if now - self.last_shown < PROGRESS_EVERY_SECONDS and self.tty is False:
            return
        self.last_shown = now
        self.show(run)

    def show(self, run: PurgeRun, *, final: bool = False) -> None:
        totals = run.totals()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        table = run.policy_snapshot.get("table", "")
        rows = int(run.tables.get(table, {}).get("changed", 0))
        others = totals["changed"] - rows
        line = (
            f"{self.name}: {rows:,} row{'s' if rows != 1 else ''} "
            f"{'would change' if run.dry_run else 'changed'}"
            + (f" (+{others:,} in other tables)" if others else "")
            + f" · {run.batches:,} batch{'es' if run.batches != 1 else ''} · "
            f"{totals['changed'] / elapsed:,.0f} rows/s"
        )
        if self.tty and not final:
            self.out.write("\r" + line.ljust(78), ending="")
            self.out.flush()
        else:
            self.out.write(("\r" if self.tty else "") + line)
        self.shown = True


class Command(BaseCommand):
    help = "Run retention policies now (all enabled ones, or --policy NAME)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--policy", help="The policy's name (exact).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count per table what would change; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        retention_builtin_ensure()
        if options["policy"]:
            policies = list(RetentionPolicy.objects.filter(name=options["policy"]))
            if not policies:
                raise CommandError(f"no policy named {options['policy']!r}")
        else:
            policies = list(RetentionPolicy.objects.filter(enabled=True))
        if not policies:
            self.stdout.write("No enabled retention policy.")
            return
        actor = actor_system("retention_run command")
        runs: list[PurgeRun] = []
        refused: list[str] = []
        for policy in policies:
            progress = Progress(self, policy.name)
            try:
                run = purge_run_start(
                    actor=actor,
                    policy=policy,
                    dry_run=options["dry_run"],
                    triggered_by="system:command",
                    on_batch=progress,
                )
            except DomainError as error:
                refused.append(f"{policy.name}: {error.message}")
                self.stdout.write(self.style.WARNING(f"{policy.name}: {error.message}"))
                continue
            progress.show(run, final=True)
            runs.append(run)
        self._summary(runs)
        failed = [run for run in runs if run.status != RunStatus.SUCCEEDED]
        if failed or refused:
            raise CommandError(
                f"{len(failed) + len(refused)} of {len(policies)} policies did not "
                "finish; see the errors above"
            )

    def _summary(self, runs: list[PurgeRun]) -> None:
        header = ("Policy", "Table", "Examined", "Changed", "Held", "Status")
        rows: list[tuple[str, ...]] = []
        for run in runs:
            for index, (table, counts) in enumerate(sorted(run.tables.items())):
                rows.append(
                    (
                        run.policy.name if index == 0 else "",
                        table,
                        f"{counts['examined']:,}",
                        f"{counts['changed']:,}",
                        f"{counts['skipped_held']:,}",
                        (run.status + (" (dry run)" if run.dry_run else ""))
                        if index == 0
                        else "",
                    )
                )
            for error in run.errors[-1:]:
                rows.append(("", f"error: {error['message'][:60]}", "", "", "", ""))
        widths = [
            max(len(header[i]), *(len(row[i]) for row in rows)) if rows else 0
            for i in range(len(header))
        ]
        numeric = {2, 3, 4}

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(
                cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                for i, cell in enumerate(cells)
            ).rstrip()

        self.stdout.write("")
        self.stdout.write(line(header))
        self.stdout.write(line(tuple("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line(row))
