"""One wording of the record's parts, for the CSV, the PDF and the pages."""

from __future__ import annotations

from records.selectors.facts import RecipientFact, RetentionRule, TransferFact

NO_SAFEGUARD = "NO SAFEGUARD RECORDED"


def recipient_text(recipient: RecipientFact) -> str:
    details = [recipient.role_label]
    if recipient.country:
        details.append(recipient.country)
    if recipient.store:
        details.append(f"store {recipient.store}")
    return f"{recipient.name} ({'; '.join(details)})"


def transfer_text(transfer: TransferFact) -> str:
    to = transfer.country
    if transfer.recipient:
        to += f", {transfer.recipient}"
    return f"{to}: {transfer.safeguards or NO_SAFEGUARD}"


def retention_text(rule: RetentionRule) -> str:
    where = " · ".join(part for part in (rule.store, rule.category) if part)
    return f"{where}: {rule.text}" if where else rule.text
