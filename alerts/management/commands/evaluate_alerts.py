from django.core.management.base import BaseCommand, CommandParser

from alerts.services import alerts_evaluate, audit_chain_check


class Command(BaseCommand):
    help = (
        "Run the alert rules over the audit events written since the last run "
        "(as beat does every minute); --chain also verifies the audit chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chain", action="store_true", help="verify the audit chain too"
        )

    def handle(self, *args: object, **options: object) -> None:
        evaluation = alerts_evaluate()
        self.stdout.write(
            f"read {evaluation.events_read} audit events (up to "
            f"#{evaluation.last_sequence}): {len(evaluation.raised)} alerts raised, "
            f"{len(evaluation.extended)} extended"
        )
        for alert in evaluation.raised:
            self.stdout.write(
                f"  {alert.severity}: {alert.get_rule_display()} "
                f"({alert.subject_kind} {alert.subject}, {alert.count})"
            )
        if options["chain"]:
            broken = audit_chain_check()
            self.stdout.write(
                "audit chain OK"
                if broken is None
                else f"audit chain BROKEN: {broken.details.get('problem', '')}"
            )
