"""Writes of discovery: start a scan, run it, save its proposal as a
connector, re-scan a connector and flag what its map lacks.

The DSN typed into discovery is a secret (it may hold the password): it is
kept encrypted on the Discovery row, never shown or audited, and on saving
it is split into the connector's `config.dsn` (no password) and its secret
`password`, then blanked from the row.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import ConfigError, ConnectorError
from connectors.choices import DiscoveryKind, DiscoveryStatus
from connectors.discovery import store_scan
from connectors.discovery.proposal import proposal_config
from connectors.discovery.rescan import flagged_columns, known_columns
from connectors.kinds.sql import validation
from connectors.kinds.sql.config import SCHEMES
from connectors.models import Connector, Discovery
from connectors.probes import Probe, connector_probe
from connectors.services import connector_create
from privacydesk.errors import IllegalTransition, ValidationFailed

logger = logging.getLogger(__name__)

MAX_ERROR = 300
_TABLE_INDEX = re.compile(r"config\.tables\[(\d+)\]")
RESCAN_WARNING = "discovery"  # the `source` of a re-scan's health warnings


# --- the DSN -------------------------------------------------------------------


def dsn_split(value: Any, *, field: str = "dsn") -> tuple[str, str]:
    """(the DSN without its password, the password) of a typed DSN."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            "give the database URL, e.g. postgresql://user:password@host/db "
            "or sqlite:////path/to/store.db",
            field=field,
        )
    text = value.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in SCHEMES:
        raise ValidationFailed(
            f"unsupported database URL; it must start with {', '.join(SCHEMES)}://",
            field=field,
        )
    try:
        parts = urlsplit(text)
        password = unquote(parts.password or "")
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValidationFailed("malformed database URL", field=field) from exc
    if "password=" in parts.query.lower():
        raise ValidationFailed(
            "give the password as user:password@host, not as a parameter",
            field=field,
        )
    if password:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = quote(unquote(parts.username or ""), safe="")
        netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
        text = SplitResult(
            parts.scheme, netloc, parts.path, parts.query, parts.fragment
        ).geturl()
    try:
        return validation.clean_dsn(text), password
    except ConfigError as error:
        raise ValidationFailed(error.message, field=field) from error


# --- discovery ------------------------------------------------------------------


def discovery_start(*, actor: Actor, dsn: Any) -> Discovery:
    """Queue a scan of the store at `dsn`; the worker proposes its map."""
    actor.require(Perm.CONNECTORS_MANAGE)
    plain, _ = dsn_split(dsn)
    with transaction.atomic():
        discovery = Discovery.objects.create(
            kind=DiscoveryKind.SCAN, dsn=str(dsn).strip(), started_by=actor.ref
        )
        audit_record(
            actor=actor,
            action="connector.discovery_started",
            obj=discovery,
            data={"scheme": plain.split("://", 1)[0].lower()},
        )
        transaction.on_commit(lambda: _send_scan(discovery.pk))
    return discovery


def _send_scan(discovery_id: int) -> None:
    from connectors.tasks import discovery_scan_task

    discovery_scan_task.delay(discovery_id)


def discovery_run(*, discovery_id: int) -> str:
    """Run a queued scan (the worker's half); safe to run twice."""
    # A scan whose worker died (the message redelivered) is taken again once
    # it is past twice its time limit; a live one is left to finish.
    stale = timezone.now() - timedelta(
        seconds=2 * settings.DISCOVERY_TIME_LIMIT_SECONDS + 60
    )
    claimed = (
        Discovery.objects.filter(pk=discovery_id, kind=DiscoveryKind.SCAN)
        .filter(
            Q(status=DiscoveryStatus.QUEUED)
            | Q(status=DiscoveryStatus.RUNNING, started_at__lt=stale)
        )
        .update(status=DiscoveryStatus.RUNNING, started_at=timezone.now())
    )
    if not claimed:
        return "skipped"
    discovery = Discovery.objects.get(pk=discovery_id)
    plain, password = dsn_split(discovery.dsn)

    def progress(done: int, total: int) -> None:
        Discovery.objects.filter(pk=discovery_id).update(
            tables_done=done, tables_total=total, updated_at=timezone.now()
        )

    try:
        scan = store_scan(
            plain,
            password=password,
            sample_rows=settings.DISCOVERY_SAMPLE_ROWS,
            time_limit=float(settings.DISCOVERY_TIME_LIMIT_SECONDS),
            progress=progress,
        )
    except ConnectorError as error:
        return _failed(
            discovery,
            error.message.replace(password, "***") if password else error.message,
        )
    with transaction.atomic():
        Discovery.objects.filter(pk=discovery_id).update(
            status=DiscoveryStatus.DONE,
            proposal=scan.proposal,
            finished_at=timezone.now(),
        )
        audit_record(
            actor=actor_system("discovery"),
            action="connector.discovery_finished",
            obj=discovery,
            data={
                "tables": len(scan.schemas),
                "mapped": sum(1 for t in scan.proposal["tables"] if t["include"]),
            },
        )
    return DiscoveryStatus.DONE


def _failed(discovery: Discovery, message: str) -> str:
    with transaction.atomic():
        Discovery.objects.filter(pk=discovery.pk).update(
            status=DiscoveryStatus.FAILED,
            error=message[:MAX_ERROR],
            finished_at=timezone.now(),
        )
        audit_record(
            actor=actor_system("discovery"),
            action="connector.discovery_failed",
            obj=discovery,
            data={"error": message[:MAX_ERROR], "connector": discovery.connector_id},
        )
    return DiscoveryStatus.FAILED


def _ready(discovery: Discovery) -> tuple[str, str]:
    if discovery.kind != DiscoveryKind.SCAN or discovery.status != DiscoveryStatus.DONE:
        raise IllegalTransition("this scan has no proposal to save")
    if discovery.connector_id is not None or not discovery.dsn:
        raise IllegalTransition("this proposal was saved already")
    return dsn_split(discovery.dsn)


def discovery_config(
    *, discovery: Discovery, proposal: dict[str, Any]
) -> dict[str, Any]:
    """The sql kind's config an (edited) proposal says, checked by the kind."""
    plain, _ = _ready(discovery)
    config = proposal_config(proposal, dsn=plain)
    if not config["tables"]:
        raise ValidationFailed("map at least one table", field="config.tables")
    try:
        validation.validate(config)
    except ConfigError as error:
        # Say which table: the officer edits tables by name, not by index.
        match = _TABLE_INDEX.match(error.field or "")
        if match is None:
            raise
        table = config["tables"][int(match.group(1))]["table"]
        raise ConfigError(
            f"table {table}: {error.message}", field=error.field
        ) from None
    return config


def discovery_probe(
    *, actor: Actor, discovery: Discovery, proposal: dict[str, Any]
) -> Probe:
    """Test connection with the proposed map and the scan's password; saves
    nothing."""
    actor.require(Perm.CONNECTORS_MANAGE)
    _, password = _ready(discovery)
    config = discovery_config(discovery=discovery, proposal=proposal)
    return connector_probe(
        actor=actor,
        kind="sql",
        config=config,
        secrets={"password": password} if password else {},
    )


def discovery_save(
    *,
    actor: Actor,
    discovery: Discovery,
    proposal: dict[str, Any],
    name: str,
    data_categories: list[str],
    disclosure: Any,
    enabled: bool = True,
) -> Connector:
    """Save an (edited) proposal as an sql connector; the DSN's password
    becomes its secret and the scan forgets the DSN."""
    actor.require(Perm.CONNECTORS_MANAGE)
    with transaction.atomic():
        discovery = Discovery.objects.select_for_update().get(pk=discovery.pk)
        _, password = _ready(discovery)
        config = discovery_config(discovery=discovery, proposal=proposal)
        connector = connector_create(
            actor=actor,
            name=name,
            kind="sql",
            config=config,
            secrets={"password": password} if password else None,
            data_categories=data_categories,
            disclosure=disclosure,
            enabled=enabled,
        )
        discovery.connector = connector
        discovery.dsn = ""
        discovery.proposal = proposal
        discovery.save(update_fields=["connector", "dsn", "proposal", "updated_at"])
        audit_record(
            actor=actor,
            action="connector.discovery_saved",
            obj=discovery,
            data={"connector": connector.name, "tables": len(config["tables"])},
        )
    return connector


# --- re-scans --------------------------------------------------------------------


def connector_rescan(*, actor: Actor, connector: Connector) -> Discovery:
    """Scan an sql connector's store again and flag personal-looking columns
    its map lacks: kept on a Discovery row, shown as health warnings, audited."""
    actor.require(Perm.CONNECTORS_MANAGE)
    if connector.kind != "sql":
        raise ValidationFailed("only sql connectors are scanned", field="kind")
    discovery = Discovery.objects.create(
        kind=DiscoveryKind.RESCAN,
        connector=connector,
        status=DiscoveryStatus.RUNNING,
        started_by=actor.ref,
        started_at=timezone.now(),
    )
    try:
        store = validation.parse(dict(connector.config))
    except ConfigError as error:
        _failed(discovery, f"invalid config at {error.field}: {error.message}")
        return _reloaded(discovery)
    password = str((connector.secrets or {}).get("password") or "")
    try:
        scan = store_scan(
            store.dsn,
            password=password,
            sample_rows=settings.DISCOVERY_SAMPLE_ROWS,
            time_limit=float(settings.DISCOVERY_TIME_LIMIT_SECONDS),
            connect_timeout=store.connect_timeout,
        )
    except ConnectorError as error:
        message = error.message.replace(password, "***") if password else error.message
        _failed(discovery, message)
        return _reloaded(discovery)
    baseline = (
        connector.discoveries.filter(kind=DiscoveryKind.SCAN)
        .exclude(proposal={})
        .order_by("-created_at")
        .first()
    )
    seen = known_columns(baseline.proposal) if baseline else set()
    flagged = flagged_columns(store, scan.findings, seen=seen)
    warnings = [
        {
            "message": f"{flag['table']}.{flag['column']} looks personal "
            f"({flag['category'].replace('_', ' ')}: {flag['reason']}) and is "
            f"{flag['where']}",
            "fix": "",
            "source": RESCAN_WARNING,
        }
        for flag in flagged
    ]
    with transaction.atomic():
        locked = Connector.objects.select_for_update().get(pk=connector.pk)
        kept = [
            w for w in locked.health_warnings or [] if w.get("source") != RESCAN_WARNING
        ]
        Connector.objects.filter(pk=connector.pk).update(
            health_warnings=kept + warnings
        )
        Discovery.objects.filter(pk=discovery.pk).update(
            status=DiscoveryStatus.DONE,
            proposal=scan.proposal,
            flagged=flagged,
            tables_total=len(scan.schemas),
            tables_done=len(scan.schemas),
            finished_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="connector.rescanned",
            obj=connector,
            data={
                "flagged": len(flagged),
                "columns": [f"{f['table']}.{f['column']}" for f in flagged],
            },
        )
    return _reloaded(discovery)


def _reloaded(discovery: Discovery) -> Discovery:
    discovery.refresh_from_db()
    return discovery


def connectors_rescan_all() -> int:
    """Queue a re-scan of every enabled sql connector (beat, daily)."""
    from connectors.tasks import discovery_rescan_task

    ids = list(
        Connector.objects.filter(kind="sql", enabled=True).values_list("pk", flat=True)
    )

    def send() -> None:
        for connector_id in ids:
            discovery_rescan_task.delay(connector_id)

    transaction.on_commit(send)
    return len(ids)


def connector_rescan_by_id(*, connector_id: int) -> str:
    """The task's half of a scheduled re-scan."""
    connector = Connector.objects.filter(pk=connector_id, kind="sql").first()
    if connector is None:
        return "gone"
    discovery = connector_rescan(actor=actor_system("discovery"), connector=connector)
    return f"{discovery.status}: {len(discovery.flagged)} flagged"


__all__ = [
    "connector_rescan",
    "connector_rescan_by_id",
    "connectors_rescan_all",
    "discovery_config",
    "discovery_probe",
    "discovery_run",
    "discovery_save",
    "discovery_start",
    "dsn_split",
]
