"""Writes of connectors.

Every write checks the actor, validates through the connector's kind (whose
errors name the path inside the config), and is audited. Secrets are
write-only: the audit log records which secret names changed, never a value,
and config values are summarised by a digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import ConfigError, ConnectorKind
from connectors.choices import Health
from connectors.disclosure import (
    store_disclosure_clean,
    store_disclosure_require_complete,
)
from connectors.links import links_check
from connectors.models import Connector
from connectors.probes import Probe, probe_health
from connectors.registry import kind_class
from connectors.selectors import connector_secret_fields_set
from privacydesk.errors import IllegalTransition, ValidationFailed

logger = logging.getLogger(__name__)

MAX_CATEGORIES = 30
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")
UPDATABLE = ("name", "config", "secrets", "data_categories", "disclosure", "enabled")


# --- validation ------------------------------------------------------------------


def _kind_class(kind: Any) -> type[ConnectorKind]:
    if not isinstance(kind, str):
        raise ValidationFailed("must be a kind name", field="kind")
    try:
        return kind_class(kind)
    except ImportError as exc:  # a kind whose module is missing or broken
        logger.warning("connector kind %s cannot be imported", kind)
        raise ValidationFailed(
            f"the kind {kind!r} is not available in this installation", field="kind"
        ) from exc


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("a name is required", field="name")
    cleaned = name.strip()
    if len(cleaned) > 60:
        raise ValidationFailed("at most 60 characters", field="name")
    try:
        validate_slug(cleaned)
    except Exception as exc:  # django's ValidationError; the message is ours
        raise ValidationFailed(
            "use letters, digits, - and _ only (a slug like helpdesk-db)",
            field="name",
        ) from exc
    return cleaned


def _check_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    taken = Connector.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationFailed(f"a connector named {name!r} exists", field="name")


def _clean_categories(categories: Any) -> list[str]:
    if categories is None:
        return []
    if not isinstance(categories, list):
        raise ValidationFailed(
            'must be a list like ["contact", "ai_conversation"]',
            field="data_categories",
        )
    if len(categories) > MAX_CATEGORIES:
        raise ValidationFailed(
            f"at most {MAX_CATEGORIES} categories", field="data_categories"
        )
    cleaned: list[str] = []
    for index, category in enumerate(categories):
        value = category.strip().lower() if isinstance(category, str) else None
        if not value or not _CATEGORY.match(value):
            raise ValidationFailed(
                "must be a short name (a-z, 0-9, _ . -), e.g. ai_conversation",
                field=f"data_categories[{index}]",
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _clean_enabled(enabled: Any) -> bool:
    if not isinstance(enabled, bool):
        raise ValidationFailed("must be true or false", field="enabled")
    return enabled


def _config_digest(config: Mapping[str, Any]) -> str:
    """A fingerprint of a config for the audit log, which never holds values."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _merge_secrets(current: Mapping[str, str], given: Any) -> dict[str, Any]:
    """A given key replaces its secret, null or "" removes it, omitted keys stay."""
    if not isinstance(given, dict):
        raise ConfigError("must be an object", field="secrets")
    merged: dict[str, Any] = dict(current)
    for key, value in given.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


# --- connectors -------------------------------------------------------------------


def connector_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    config: Any,
    secrets: Any = None,
    data_categories: Any = None,
    disclosure: Any = None,
    enabled: bool = True,
) -> Connector:
    """Add a store that requests fan out to."""
    actor.require(Perm.CONNECTORS_MANAGE)
    name = _clean_name(name)
    kind_cls = _kind_class(kind)
    cleaned_config = kind_cls.validate_config(config)
    links_check(kind_cls, cleaned_config, name)
    cleaned_secrets = kind_cls.validate_secrets(secrets)
    categories = _clean_categories(data_categories)
    cleaned_disclosure = store_disclosure_clean(disclosure)
    store_disclosure_require_complete(
        disclosure=cleaned_disclosure, categories=categories
    )
    enabled = _clean_enabled(enabled)
    with transaction.atomic():
        _check_name_free(name)
        try:
            with transaction.atomic():
                connector = Connector.objects.create(
                    name=name,
                    kind=kind,
                    config=cleaned_config,
                    secrets=cleaned_secrets or None,
                    data_categories=categories,
                    disclosure=cleaned_disclosure,
                    enabled=enabled,
                )
        except IntegrityError as exc:  # a concurrent create took the name
            raise ValidationFailed(
                f"a connector named {name!r} exists", field="name"
            ) from exc
        audit_record(
            actor=actor,
            action="connector.created",
            obj=connector,
            data={
                "name": name,
                "kind": kind,
                "enabled": enabled,
                "data_categories": categories,
                "config_digest": _config_digest(cleaned_config),
                "secret_fields_set": connector_secret_fields_set(connector=connector),
            },
        )
    return connector


def connector_update(*, actor: Actor, connector: Connector, **fields: Any) -> Connector:
    """Change some of name, config, secrets, data_categories, disclosure, enabled.

    The kind never changes (tasks refer to the store); `secrets` merges: a
    given key replaces its secret, null removes it, omitted keys stay."""
    actor.require(Perm.CONNECTORS_MANAGE)
    if "kind" in fields and fields["kind"] != connector.kind:
        raise ValidationFailed(
            "the kind of a connector cannot change; create a new one", field="kind"
        )
    fields.pop("kind", None)
    unknown = sorted(set(fields) - set(UPDATABLE))
    if unknown:
        raise ValidationFailed("cannot be changed", field=unknown[0])
    kind_cls = _kind_class(connector.kind)
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        changes: dict[str, Any] = {}
        if "name" in fields:
            name = _clean_name(fields["name"])
            if name != connector.name:
                _check_name_free(name, exclude_pk=connector.pk)
                changes["name"] = name
        if "config" in fields:
            config = kind_cls.validate_config(fields["config"])
            links_check(kind_cls, config, changes.get("name", connector.name))
            if config != connector.config:
                changes["config"] = config
        changed_secrets: list[str] = []
        if "secrets" in fields and fields["secrets"] is not None:
            current = connector.secrets or {}
            merged = kind_cls.validate_secrets(
                _merge_secrets(current, fields["secrets"])
            )
            changed_secrets = sorted(
                key
                for key in set(current) | set(merged)
                if current.get(key) != merged.get(key)
            )
            if changed_secrets:
                changes["secrets"] = merged or None
        if "data_categories" in fields:
            categories = _clean_categories(fields["data_categories"])
            if categories != connector.data_categories:
                changes["data_categories"] = categories
        if "disclosure" in fields:
            disclosure = store_disclosure_clean(fields["disclosure"])
            if disclosure != connector.disclosure:
                changes["disclosure"] = disclosure
        if "enabled" in fields:
            enabled = _clean_enabled(fields["enabled"])
            if enabled != connector.enabled:
                changes["enabled"] = enabled
        if not changes:
            return connector  # idempotent: the same PATCH twice changes nothing
        if {"disclosure", "data_categories"} & set(changes) or changes.get("enabled"):
            # A row stored before this check may be incomplete: it can still
            # be renamed, reconfigured or disabled, not switched on as it is.
            store_disclosure_require_complete(
                disclosure=changes.get("disclosure", connector.disclosure),
                categories=changes.get("data_categories", connector.data_categories),
            )
        if "config" in changes or "secrets" in changes:
            # The last check tested another configuration.
            changes.update(
                health=Health.UNKNOWN,
                health_detail="",
                health_warnings=[],
                health_checked_at=None,
            )
        for key, value in changes.items():
            setattr(connector, key, value)
        try:
            with transaction.atomic():
                connector.save()
        except IntegrityError as exc:
            raise ValidationFailed(
                f"a connector named {changes.get('name')!r} exists", field="name"
            ) from exc
        data: dict[str, Any] = {
            "fields": sorted(k for k in changes if k in UPDATABLE and k != "secrets"),
            "secrets_changed": changed_secrets,
        }
        if "config" in changes:
            data["config_digest"] = _config_digest(changes["config"])
        for key in ("name", "enabled", "data_categories"):
            if key in changes:
                data[key] = changes[key]
        audit_record(actor=actor, action="connector.updated", obj=connector, data=data)
    return connector


def connector_set_enabled(
    *, actor: Actor, connector: Connector, enabled: bool
) -> Connector:
    """Switch a store on or off for new requests (running tasks finish)."""
    actor.require(Perm.CONNECTORS_MANAGE)
    enabled = _clean_enabled(enabled)
    if enabled and not connector.enabled:
        store_disclosure_require_complete(
            disclosure=connector.disclosure, categories=connector.data_categories
        )
    with transaction.atomic():
        changed = Connector.objects.filter(pk=connector.pk, enabled=not enabled).update(
            enabled=enabled, updated_at=timezone.now()
        )
        if changed:
            audit_record(
                actor=actor,
                action="connector.enabled" if enabled else "connector.disabled",
                obj=connector,
                data={"name": connector.name},
            )
    connector.refresh_from_db()
    return connector


def connector_delete(*, actor: Actor, connector: Connector) -> None:
    """Remove a store that nothing refers to yet (one added by mistake).

    A store that requests, consent withdrawals, retention policies or legal
    holds refer to is part of their record and stays: disable it instead.
    So does one with a live pull-agent token (revoking is the accounts'
    business, and forgets the token at once); revoked tokens and consent
    links go with it."""
    actor.require(Perm.CONNECTORS_MANAGE)
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        live = sorted(
            connector.agent_clients.filter(revoked_at__isnull=True).values_list(
                "name", flat=True
            )
        )
        if live:
            raise IllegalTransition(
                f"{connector.name} has live agent tokens ({', '.join(live)}): "
                "revoke them first"
            )
        agents = sorted(connector.agent_clients.values_list("name", flat=True))
        try:
            with transaction.atomic():
                connector.delete()
        except ProtectedError as exc:
            held_by = sorted(
                {str(obj._meta.verbose_name_plural) for obj in exc.protected_objects}
            )
            raise IllegalTransition(
                f"{connector.name} is referred to by {', '.join(held_by)}; "
                "disable it instead"
            ) from exc
        audit_record(
            actor=actor,
            action="connector.deleted",
            obj=connector,
            data={"name": connector.name, "kind": connector.kind, "agents": agents},
        )


def connector_check_health(*, actor: Actor, connector: Connector) -> Connector:
    """Ask the store whether it is reachable; record and audit the answer.

    The check runs outside any transaction (it may wait on the network); a
    failing check is an answer, not an error of this service."""
    connector_test_connection(actor=actor, connector=connector)
    return connector


def connector_test_connection(*, actor: Actor, connector: Connector) -> Probe:
    """`connector_check_health`, giving the probe itself (with the reason
    that names what failed: auth, permission, network...)."""
    actor.require(Perm.CONNECTORS_MANAGE)
    probe = probe_health(connector.instance(), log_id=connector.pk)
    health = Health.OK if probe.ok else Health.ERROR
    checked_at = timezone.now()
    with transaction.atomic():
        # The last re-scan's flags stand until the next re-scan (they come
        # from sampling the store, which a health check does not do).
        flags = [
            w
            for w in Connector.objects.select_for_update()
            .get(pk=connector.pk)
            .health_warnings
            or []
            if isinstance(w, dict) and w.get("source") == "discovery"
        ]
        warnings = probe.warnings + flags
        # An update, not save(): a check is not a change of the connector and
        # must not add a history row each time.
        Connector.objects.filter(pk=connector.pk).update(
            health=health,
            health_detail=probe.detail,
            health_warnings=warnings,
            health_checked_at=checked_at,
        )
        audit_record(
            actor=actor,
            action="connector.health_checked",
            obj=connector,
            data={
                "health": health,
                "detail": probe.detail,
                "warnings": len(probe.warnings),
            },
        )
    connector.health = health
    connector.health_detail = probe.detail
    connector.health_warnings = warnings
    connector.health_checked_at = checked_at
    return probe
