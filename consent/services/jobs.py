"""Consent withdrawals worked outside: pull agents' jobs and webhooks' callbacks.

`withdrawal_jobs` is the lease kit (connectors.jobkit) for propagations
left "waiting" for a `pull` agent or an `http` webhook that answered 202, on
the same terms as request tasks. A result ends the propagation through
`propagation_finish`, as when the store answered at once.
"""

from __future__ import annotations

from typing import Any

from accounts.actors import Actor
from audit.services import audit_record
from connectors.jobkit import LeasedJobs
from connectors.wire import CONSENT_WITHDRAWN, ReportedResult, withdrawal_payload
from consent.choices import PropagationStatus
from consent.models import ConsentPropagation
from consent.services.propagations import (
    propagation_finish,
    propagation_job,
    propagations_enqueue,
)
from privacydesk.errors import IllegalTransition


class WithdrawalJobs(LeasedJobs[ConsentPropagation]):
    """Consent withdrawals for `pull` and `http` connectors."""

    model = ConsentPropagation
    related = ("connector", "event", "purpose")
    noun = "propagation"
    # The note said whose result the job was waiting for.
    requeue_resets = {"status_note": ""}

    def document(self, propagation: ConsentPropagation) -> dict[str, Any]:
        return withdrawal_payload(propagation_job(propagation=propagation))

    def action(self, propagation: ConsentPropagation) -> str:
        return CONSENT_WITHDRAWN

    def attempt_rows(self, propagation: ConsentPropagation) -> Any:
        return propagation.attempt_rows

    def audit(
        self, actor: Actor, propagation: ConsentPropagation, event: str, /, **data: Any
    ) -> None:
        names = {"propagation": str(propagation.public_id)}
        if event == "claimed":  # names the store, as the entry that ends the job does
            names["connector"] = propagation.connector.name
        audit_record(
            actor=actor,
            action=f"consent.propagation_{event}",
            obj=propagation.event,
            data={**names, **data},
        )

    def succeed(
        self, propagation: ConsentPropagation, result: ReportedResult, actor: Actor
    ) -> ConsentPropagation:
        return _finish(
            propagation,
            PropagationStatus.SUCCEEDED,
            actor,
            changed=result.outcome.changed,
            note=result.outcome.note,
        )

    def fail(
        self, propagation: ConsentPropagation, error: str, actor: Actor
    ) -> ConsentPropagation:
        return _finish(propagation, PropagationStatus.FAILED, actor, error=error)

    def send_again(self, propagation: ConsentPropagation, *, countdown: float) -> None:
        propagations_enqueue([propagation], countdown=countdown)


def _finish(
    propagation: ConsentPropagation, status: str, actor: Actor, **result: Any
) -> ConsentPropagation:
    if not propagation_finish(
        propagation,
        status,
        actor=actor,
        from_statuses=(PropagationStatus.RUNNING, PropagationStatus.WAITING),
        **result,
    ):
        raise IllegalTransition("this propagation is not waiting for a result")
    propagation.refresh_from_db()
    return propagation


withdrawal_jobs = WithdrawalJobs()
