"""The facts of a breach's evidence pack (reads only).

Everything the register holds about the incident, the clock and its
outcome, the decisions with their reasons, each subject notice (by the
subject's pseudonym, never the address), and the breach's audit events with
the chain head, so `verify_evidence` can check the pack like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.models import AuditEvent
from audit.selectors import audit_events_for_object
from breaches.choices import (
    AuthorityDecision,
    BreachStatus,
    RiskLevel,
    SubjectsDecision,
)
from breaches.clock import breach_clock
from breaches.models import Breach
from breaches.services.register import ARTICLE_33_3, missing_33_3
from evidence.packs.common import (
    actor_labels,
    audit_event_facts,
    chain_head_facts,
    integrity_at_generation,
    iso,
    pack_header,
)


def breach_facts(
    *,
    breach: Breach,
    head: AuditEvent | None,
    pack_id: str,
    generated_at: datetime,
    generated_by: str,
) -> dict[str, Any]:
    """Every fact of a breach's pack, JSON-ready, as of the chain `head`."""
    head_sequence = head.sequence if head is not None else 0
    events = list(
        audit_events_for_object(obj=breach)
        .filter(sequence__lte=head_sequence)
        .order_by("sequence")
    )
    clock = breach_clock(breach, now=generated_at)
    notices = list(breach.notices.select_related("subject").order_by("created_at"))
    labels = actor_labels(
        [e.actor for e in events]
        + [breach.created_by, generated_by]
        + [n.requested_by for n in notices]
    )
    return {
        "kind": "breach",
        "pack": pack_header(
            pack_id=pack_id,
            covers=f"breach {breach.reference}",
            generated_at=generated_at,
            generated_by=generated_by,
        ),
        "breach": {
            "id": str(breach.public_id),
            "reference": breach.reference,
            "title": breach.title,
            "status": breach.status,
            "status_label": BreachStatus(breach.status).label,
            "recorded_at": iso(breach.created_at),
            "recorded_by": breach.created_by,
            "closed_at": iso(breach.closed_at),
            "occurred_at": iso(breach.occurred_at),
            "aware_at": iso(breach.aware_at),
        },
        "article_33_3": {
            "description": breach.description,
            "data_categories": breach.data_categories,
            "subject_categories": breach.subject_categories,
            "approx_subjects": breach.approx_subjects,
            "approx_records": breach.approx_records,
            "contact_point": breach.contact_point,
            "consequences": breach.consequences,
            "measures": breach.measures,
            "missing": [
                {"field": field, "label": ARTICLE_33_3[field]}
                for field in missing_33_3(breach)
            ],
        },
        "assessment": {
            "risk": breach.risk,
            "risk_label": RiskLevel(breach.risk).label,
            "risk_reasons": breach.risk_reasons,
            "authority_decision": breach.authority_decision,
            "authority_decision_label": AuthorityDecision(
                breach.authority_decision
            ).label,
            "authority_decision_reasons": breach.authority_decision_reasons,
            "subjects_decision": breach.subjects_decision,
            "subjects_decision_label": SubjectsDecision(breach.subjects_decision).label,
            "subjects_decision_reasons": breach.subjects_decision_reasons,
        },
        "clock": {
            "rule": "72 hours from awareness, in real hours (GDPR Art. 33(1))",
            "aware_at": iso(breach.aware_at),
            "notify_by": iso(clock.notify_by),
            "state": clock.state,
            "label": clock.label,
            "hours_left": round(clock.hours_left, 2),
        },
        "authority_notification": {
            "notified_at": iso(breach.authority_notified_at),
            "reference": breach.authority_reference,
            "late": clock.state == "notified_late",
            "late_reason": breach.late_reason,
            "hours_after_awareness": (
                round(
                    (breach.authority_notified_at - breach.aware_at).total_seconds()
                    / 3600,
                    2,
                )
                if breach.authority_notified_at is not None
                else None
            ),
        },
        "notices": [
            {
                "id": str(notice.public_id),
                "recipient": notice.recipient_label,
                "known_subject": notice.subject is not None,
                "channel": notice.channel,
                "status": notice.status,
                "attempts": notice.attempts,
                "requested_at": iso(notice.created_at),
                "requested_by": notice.requested_by,
                "sent_at": iso(notice.sent_at),
            }
            for notice in notices
        ],
        "audit": {
            "scope": {
                "object_type": breach._meta.label_lower,
                "object_id": str(breach.public_id),
            },
            "events": [audit_event_facts(e) for e in events],
            "chain_head": chain_head_facts(head),
            "integrity_at_generation": integrity_at_generation(events),
        },
        "actors": labels,
    }
