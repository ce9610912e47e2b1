from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Check every link of the audit chain; exit non-zero at the first bad event."

    def handle(self, *args: object, **options: object) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN at event #{report.first_bad_sequence}: "
                f"{report.problem} "
                f"({report.count} events verified before it)"
            )
        self.stdout.write(
            f"audit chain OK: {report.count} events, head {report.head_hash}"
        )
