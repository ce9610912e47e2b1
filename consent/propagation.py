"""Applying a withdrawal to a store: what a PurposeConnector's action does.

Three kinds take withdrawals:

- `sql`: executed here, through the connector's own map, dialect and
  connection (`connectors.kinds.sql`): the action names a table of the
  connector's map, the subject's rows are found exactly as erasure finds
  them (identity columns, or parent tables), names are quoted by the dialect
  and every value is a bound parameter. Running it twice has the effect of
  running it once.
- `http`: a job (connectors.wire's envelope, `"action": "consent_withdrawn"`,
  with the purpose, the subject's identity and the link's action as
  `instructions`) is POSTed to the webhook through the http kind's own
  `deliver`, signed like request jobs. The result comes in the response, or
  after a 202 by a signed callback to `callback_url`
  (`/api/v1/connector-callbacks/consent/<id>/`).
- `pull`: the job waits for the connector's agent, which lists it at
  `/api/v1/agent/consent-jobs/`, claims it with a lease, heartbeats and
  posts the result (consent.services.jobs).

Other kinds raise `PropagationUnsupported`, which the caller records as
such: never as a success.

Actions of sql links:
    {"set": {"table": "customers", "column": "ai_training_opt_out", "value": true}}
    {"delete": {"table": "training_examples"}}
Actions of http and pull links are free-form objects, sent as `instructions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from connectors.base import ConfigError, ConnectorError, Deferred, Identity, Outcome
from connectors.choices import ConnectorKindChoice as Kind
from connectors.wire import CONSENT_WITHDRAWN, WithdrawalJob, withdrawal_payload
from privacydesk.errors import ValidationFailed

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SUPPORTED_KINDS = frozenset({Kind.SQL, Kind.HTTP, Kind.PULL})


class PropagationError(Exception):
    """A store call failed; `permanent` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class PropagationUnsupported(Exception):
    """This connector kind cannot apply withdrawals by itself yet."""


@dataclass(frozen=True)
class StoreAction:
    operation: str  # "set" or "delete"
    table: str
    column: str | None = None
    value: Any = None


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationFailed(
            "a plain SQL name (letters, digits, underscore)", field=field
        )
    return value


def action_clean(
    action: Any, *, config: Mapping[str, Any] | None = None, field: str = "action"
) -> StoreAction:
    """Validate an sql link's action; errors name the path, e.g. `action.set.table`.

    With the connector's `config`, the table must be one of its map.
    """
    if not isinstance(action, Mapping):
        raise ValidationFailed("must be an object", field=field)
    unknown = sorted(set(action) - {"set", "delete"})
    if unknown:
        raise ValidationFailed("unknown key", field=f"{field}.{unknown[0]}")
    if len(action) != 1:
        raise ValidationFailed('give exactly one of "set" or "delete"', field=field)
    operation = next(iter(action))
    spec, path = action[operation], f"{field}.{operation}"
    if not isinstance(spec, Mapping):
        raise ValidationFailed("must be an object", field=path)
    allowed = {"table", "column", "value"} if operation == "set" else {"table"}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise ValidationFailed("unknown key", field=f"{path}.{extra[0]}")
    table = _name(spec.get("table"), f"{path}.table")
    if config is not None:
        _table_of(config, table, f"{path}.table", as_validation=True)
    if operation == "delete":
        return StoreAction("delete", table)
    column = _name(spec.get("column"), f"{path}.column")
    if "value" not in spec:
        raise ValidationFailed("the value to set is required", field=f"{path}.value")
    value = spec["value"]
    if value is not None and not isinstance(value, bool | int | float | str):
        raise ValidationFailed("must be a plain value", field=f"{path}.value")
    return StoreAction("set", table, column, value)


def _table_of(
    config: Mapping[str, Any], table: str, field: str, *, as_validation: bool
) -> Any:
    from connectors.kinds.sql.config import parse

    try:
        store = parse(dict(config))
    except ConfigError as error:
        if as_validation:
            raise ValidationFailed(
                f"the connector's config is invalid ({error.field}: {error.message})",
                field=field,
            ) from error
        raise PropagationError(
            f"invalid connector config at {error.field}: {error.message}",
            permanent=True,
        ) from error
    try:
        return store, store.table(table)
    except KeyError as error:
        message = f"table {table} is not in the connector's map"
        if as_validation:
            raise ValidationFailed(message, field=field) from error
        raise PropagationError(message, permanent=True) from error


def apply_withdrawal(
    *,
    kind: str,
    name: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    action: Mapping[str, Any],
    job: WithdrawalJob,
) -> Outcome | Deferred:
    """Apply the withdrawal for one subject, or hand it over.

    Returns what changed (`changed` rows in sql, or what a webhook reports
    at once, with its note), or Deferred when the result comes later (a
    webhook's 202, a pull agent)."""
    if kind not in SUPPORTED_KINDS:
        raise PropagationUnsupported(
            f"propagating withdrawals to {kind} connectors is not supported yet; "
            "apply it in that system by hand"
        )
    if kind == Kind.PULL:
        return Deferred(note=f"waiting for the agent of {name} to claim it")
    if kind == Kind.HTTP:
        return _webhook(name, config, secrets, job)
    try:
        store_action = action_clean(action)
    except ValidationFailed as error:
        raise PropagationError(
            f"invalid action ({error.field}: {error.message})", permanent=True
        ) from error
    store, table = _table_of(config, store_action.table, "action", as_validation=False)
    password = str(secrets.get("password") or "")
    return Outcome(changed=_run(store, table, store_action, job.identity, password))


def propagation_callback_url(public_id: str) -> str:
    """Where a webhook reports a deferred result: an id, no personal data."""
    path = reverse("consent-propagation-callback", kwargs={"propagation_id": public_id})
    return f"{settings.SITE_URL}{path}"


def _webhook(
    name: str, config: Mapping[str, Any], secrets: Mapping[str, str], job: WithdrawalJob
) -> Outcome | Deferred:
    from connectors.kinds.http import HttpConnector

    webhook = HttpConnector(name=name, config=config, secrets=secrets)
    document = withdrawal_payload(
        job, callback_url=propagation_callback_url(job.task_id)
    )
    try:
        answer = webhook.deliver(
            document, task_id=job.task_id, action=CONSENT_WITHDRAWN
        )
    except ConnectorError as error:
        raise PropagationError(error.message, permanent=error.permanent) from None
    if isinstance(answer, Deferred):
        return answer
    if not answer.done:
        raise PropagationError(
            f"webhook of {name} reports failure: {answer.error[:300]}",
            permanent=not answer.retryable,
        )
    return answer.outcome


def _run(
    store: Any, table: Any, action: StoreAction, identity: Identity, password: str
) -> int:
    from connectors.kinds.sql.connector import SubjectQuery
    from connectors.kinds.sql.dialects import dialect_for

    dialect = dialect_for(store.dsn, prepared_statements=store.prepared_statements)
    where, params = SubjectQuery(dialect, store, identity).where(table)
    if where == "1 = 0":
        return 0  # none of the subject's identifiers reaches this table
    q, p = dialect.quote, dialect.param
    if action.operation == "delete":
        sql, values = f"DELETE FROM {q(table.table)} WHERE {where}", params
    else:
        assert action.column is not None
        column = q(action.column)
        # Only rows not set yet count as changed, so a rerun reports 0.
        sql = (
            f"UPDATE {q(table.table)} SET {column} = {p} "
            f"WHERE ({where}) AND ({column} IS NULL OR {column} <> {p})"
        )
        values = [action.value, *params, action.value]
    doing = f"withdrawal in table {table.table}"
    try:
        with dialect.session(
            password=password, timeout=store.connect_timeout, write=True, doing=doing
        ) as connection:
            # The session turns driver errors into ConnectorErrors that say
            # whether a retry can help.
            return dialect.execute(connection, sql, values)
    except ConnectorError as error:
        message = error.message.replace(password, "***") if password else error.message
        raise PropagationError(message, permanent=error.permanent) from None
