"""What each staff role and each API scope may do.

One table serves the dashboard and the API, so both enforce the same rules;
services check it through `Actor.require`.
"""

from __future__ import annotations

from enum import StrEnum

from accounts.choices import Role, Scope


class Perm(StrEnum):
    REQUEST_VIEW = "request.view"
    REQUEST_CREATE = "request.create"
    REQUEST_SET_RECEIVED_AT = "request.set_received_at"
    REQUEST_VERIFY = "request.verify"
    REQUEST_NOTE = "request.note"
    REQUEST_APPROVE = "request.approve"
    REQUEST_REJECT = "request.reject"
    REQUEST_EXTEND = "request.extend"
    REQUEST_PAUSE = "request.pause"
    REQUEST_CANCEL = "request.cancel"
    REQUEST_CLOSE = "request.close"
    REQUEST_ASSIGN = "request.assign"  # who works a request (the queue's "mine")
    # Record an authorised agent's written authority (CCPA-REG §7063) for a
    # request filed through the API: officers and admins only.
    REQUEST_AGENT_AUTHORITY = "request.agent_authority"
    AUDIT_VIEW = "audit.view"
    CLIENTS_MANAGE = "clients.manage"
    CONSENT_VIEW = "consent.view"
    CONSENT_RECORD = "consent.record"
    CONSENT_CHECK = "consent.check"
    CONSENT_MANAGE = "consent.manage"  # purposes, policy versions, propagation
    CONNECTORS_VIEW = "connectors.view"
    CONNECTORS_MANAGE = "connectors.manage"
    RETENTION_VIEW = "retention.view"
    RETENTION_MANAGE = "retention.manage"  # policies, holds, runs
    MASKING_USE = "masking.use"  # mask text, restore a reply
    MASKING_SHRED = "masking.shred"  # delete a subject's vault (erasure)
    TRAINING_VIEW = "training.view"  # exclusions, the export key, datasets
    TRAINING_MANAGE = "training.manage"  # register datasets
    # Staff security: reset another's second factor, end their sessions.
    STAFF_SECURITY_MANAGE = "staff_security.manage"
    ACCESS_REVIEW_VIEW = "access_review.view"
    ACCESS_REVIEW_MANAGE = "access_review.manage"  # start, decide, sign
    # Accountability records: the records of processing (Art. 30) and the
    # data map; manage = change the officer's part of them.
    GOVERNANCE_VIEW = "governance.view"
    GOVERNANCE_MANAGE = "governance.manage"
    BREACH_VIEW = "breach.view"  # the breach register and its evidence
    BREACH_MANAGE = "breach.manage"  # record, decide, notify, tell subjects
    # The internal copy of an evidence pack carries the subject's identifiers.
    EVIDENCE_INTERNAL = "evidence.internal"
    ALERTS_VIEW = "alerts.view"  # anomaly alerts on the audit trail
    ALERTS_ACKNOWLEDGE = "alerts.acknowledge"  # triage one, with a note


_ALL = frozenset(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.PRIVACY_OFFICER: _ALL,
    Role.ADMIN: _ALL,
    Role.SUPPORT_AGENT: frozenset(
        {
            Perm.REQUEST_VIEW,
            Perm.REQUEST_CREATE,
            Perm.REQUEST_SET_RECEIVED_AT,
            Perm.REQUEST_VERIFY,
            Perm.REQUEST_NOTE,
            Perm.CONSENT_VIEW,
            Perm.CONSENT_RECORD,
            Perm.CONSENT_CHECK,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Perm.REQUEST_VIEW,
            Perm.AUDIT_VIEW,
            Perm.CONNECTORS_VIEW,
            Perm.CONSENT_VIEW,
            Perm.RETENTION_VIEW,
            Perm.TRAINING_VIEW,
            Perm.ACCESS_REVIEW_VIEW,
            Perm.GOVERNANCE_VIEW,
            Perm.ALERTS_VIEW,
            Perm.BREACH_VIEW,
        }
    ),
}

SCOPE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Scope.REQUESTS_READ: frozenset({Perm.REQUEST_VIEW}),
    Scope.REQUESTS_WRITE: frozenset({Perm.REQUEST_CREATE, Perm.REQUEST_NOTE}),
    Scope.REQUESTS_VERIFY: frozenset(
        {Perm.REQUEST_VERIFY, Perm.REQUEST_SET_RECEIVED_AT}
    ),
    Scope.REQUESTS_MANAGE: frozenset(
        {
            Perm.REQUEST_APPROVE,
            Perm.REQUEST_REJECT,
            Perm.REQUEST_EXTEND,
            Perm.REQUEST_PAUSE,
            Perm.REQUEST_CANCEL,
            Perm.REQUEST_CLOSE,
        }
    ),
    Scope.AUDIT_READ: frozenset({Perm.AUDIT_VIEW}),
    Scope.CONSENT_READ: frozenset({Perm.CONSENT_VIEW}),
    Scope.CONSENT_WRITE: frozenset({Perm.CONSENT_RECORD}),
    Scope.CONSENT_CHECK: frozenset({Perm.CONSENT_CHECK}),
    Scope.CONNECTORS_READ: frozenset({Perm.CONNECTORS_VIEW}),
    Scope.CONNECTORS_WRITE: frozenset({Perm.CONNECTORS_MANAGE}),
    Scope.RETENTION_READ: frozenset({Perm.RETENTION_VIEW}),
    Scope.RETENTION_WRITE: frozenset({Perm.RETENTION_MANAGE}),
    Scope.MASKING_USE: frozenset({Perm.MASKING_USE, Perm.CONSENT_CHECK}),
    Scope.TRAINING_READ: frozenset({Perm.TRAINING_VIEW}),
    Scope.TRAINING_WRITE: frozenset({Perm.TRAINING_MANAGE}),
    Scope.GOVERNANCE_READ: frozenset(
        {Perm.GOVERNANCE_VIEW, Perm.ALERTS_VIEW, Perm.BREACH_VIEW}
    ),
    Scope.GOVERNANCE_WRITE: frozenset(
        {Perm.GOVERNANCE_MANAGE, Perm.ALERTS_ACKNOWLEDGE, Perm.BREACH_MANAGE}
    ),
    # A controller vouches for its subjects (OpenDSR's protocol flow: the
    # controller verifies, then distributes) and states when the subject
    # asked (`submitted_time`, the start of the legal clock). Its requests
    # are reached only through the opendsr app's per-client selectors.
    Scope.OPENDSR_SUBMIT: frozenset(
        {
            Perm.REQUEST_CREATE,
            Perm.REQUEST_VERIFY,
            Perm.REQUEST_SET_RECEIVED_AT,
            Perm.REQUEST_VIEW,
            Perm.REQUEST_CANCEL,
        }
    ),
}


def permissions_for_scopes(scopes: list[str]) -> frozenset[Perm]:
    granted: set[Perm] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return frozenset(granted)
