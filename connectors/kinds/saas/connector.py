"""`SaasConnector`: the connector kind of a support-SaaS service, bound to
its definition (`kind_for("zendesk")`). Config and secrets come from the
definition's `config` and `auth` blocks; the actions are access, rectify,
erase and verify_erasure, run by the engine's walker and eraser."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar

import jsonschema
from django.utils import timezone

from connectors.base import (
    JSON_SCHEMA_DIALECT,
    AccessRecord,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    ErasureReceipt,
    HealthReport,
    Identity,
    Job,
    Outcome,
    RecordSink,
)
from connectors.choices import Action
from connectors.errors import REASON_NOT_FOUND
from connectors.kinds.outbound import check_base_url
from connectors.kinds.saas.budget import Budget
from connectors.kinds.saas.client import Client, basic_auth
from connectors.kinds.saas.definition import Definition
from connectors.kinds.saas.erasure import Eraser, update
from connectors.kinds.saas.jobs import RUNNING
from connectors.kinds.saas.oauth import DEFAULT_LIFETIME_SECONDS, OAuth2
from connectors.kinds.saas.templates import dig, render
from connectors.kinds.saas.walk import Walker, conversation_types

DEFAULT_TIMEOUT_SECONDS = 15
MAX_TIMEOUT_SECONDS = 120
MAX_JOB_WAIT_SECONDS = 300
# A vendor's deletion job still running after an attempt is checked again
# this much later (then daily, dsr.services.execution.waiting).
JOB_RECHECK_MINUTES = 10


class SaasConnector(ConnectorKind):
    """A support SaaS reached through its API, as its definition says."""

    definition: ClassVar[Definition]
    actions = frozenset(
        {Action.ACCESS, Action.RECTIFY, Action.ERASE, Action.VERIFY_ERASURE}
    )
    # It asks the service itself, right after erasing.
    verifies_in_process = True
    # The vendor is our processor: erasing in it is telling it (Art. 19).
    reaches_processor = True
    _task = ""  # the task being run: an erasure's retries resume by it
    _oauth: OAuth2 | None = None  # one per instance: it holds rotated secrets

    # -- configuration -----------------------------------------------------
    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        definition = cls.definition
        properties: dict[str, Any] = {
            name: dict(field) for name, field in definition.config_fields.items()
        }
        properties.update(
            {
                "base_url": {
                    "type": "string",
                    "pattern": "^https?://",
                    "description": f"Instead of {definition.document['base_url']} "
                    "(a proxy, or the demo stand-in; plain http only to this "
                    "machine)",
                },
                "rate_limit_per_minute": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100000,
                    "default": definition.document["rate_limit"]["per_minute"],
                    "description": "Calls a minute your plan allows; every "
                    "worker shares this budget",
                },
                "page_size": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "description": "Records a page asks for, instead of the "
                    "definition's (smaller pages: more calls)",
                },
                "timeout_seconds": {
                    "type": "number",
                    "minimum": 1,
                    "maximum": MAX_TIMEOUT_SECONDS,
                    "default": DEFAULT_TIMEOUT_SECONDS,
                },
            }
        )
        if _uses_jobs(definition):
            properties["job_wait_seconds"] = {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_JOB_WAIT_SECONDS,
                "description": "How long one attempt waits for the vendor's "
                "deletion job before the task waits on the vendor (checked "
                "again later)",
            }
        auth = definition.document["auth"]
        if auth["type"] == "oauth2":
            properties["token_url"] = {
                "type": "string",
                "pattern": "^https?://",
                "description": f"Instead of {auth['token_url']} (a proxy, or "
                "the demo stand-in; plain http only to this machine)",
            }
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": definition.label,
            "description": f"Secrets: {', '.join(definition.secrets)}. "
            f"API: {definition.document.get('docs', '')}",
            "type": "object",
            "properties": properties,
            "required": list(definition.required_config),
            "additionalProperties": False,
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        validator = jsonschema.Draft202012Validator(
            cls.config_schema(), format_checker=jsonschema.FormatChecker()
        )
        error = jsonschema.exceptions.best_match(validator.iter_errors(config))
        if error is not None:
            path = ".".join(str(part) for part in error.absolute_path)
            if not path and error.validator == "required":
                path = str(error.message).split("'")[1]
            if not path and error.validator == "additionalProperties":
                path = sorted(set(config) - set(cls.config_schema()["properties"]))[0]
            raise ConfigError(
                error.message, field=f"config.{path}" if path else "config"
            )
        for field in ("base_url", "token_url"):
            if field in config:
                check_base_url(config[field], field=f"config.{field}")
        return dict(config)

    @classmethod
    def validate_secrets(cls, secrets: Any) -> dict[str, str]:
        cleaned = super().validate_secrets(secrets)
        for name in cls.secret_fields:
            if not cleaned.get(name, "").strip():
                raise ConfigError("required", field=f"secrets.{name}")
        return cleaned

    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        try:
            rule = cls.definition.record(location)["erase"]
        except KeyError:
            return ""
        return {
            "delete": f"deleted ({len(rule.get('requests', ()))} step(s))"
            + (
                f"; destroyed by the vendor {rule['grace_days']} days later, "
                "checked after that date"
                if rule.get("grace_days")
                else ""
            )
            + (
                "; copies out of the API's reach may persist "
                f"({rule['persists']['reason']})"
                if rule.get("persists")
                else ""
            ),
            "redact": "the subject's words redacted in place",
            "redact_whole": "the subject's messages, and those naming her, redacted",
            "mask": "overwritten",
            "keep": f"kept ({rule.get('reason', '')})",
            "with_parent": "deleted with its parent",
            "job": "deleted for good by the vendor's deletion job, checked "
            "by querying the ids again",
        }.get(rule["strategy"], "")

    # -- the engine ----------------------------------------------------------
    def _walker(self) -> Walker:
        definition = self.definition
        context: dict[str, Any] = {
            **{
                f"config.{k}": field["default"]
                for k, field in definition.config_fields.items()
                if "default" in field
            },
            **{f"config.{k}": v for k, v in self.config.items()},
            **{f"secret.{k}": v for k, v in self.secrets.items()},
        }
        limits = definition.document["rate_limit"]
        auth = definition.document["auth"]
        oauth, header, base_url = None, "", self.config.get("base_url", "")
        if auth["type"] == "basic":
            header = basic_auth(
                render(auth["username"], context), render(auth["password"], context)
            )
        elif auth["type"] == "bearer":
            header = f"Bearer {render(auth['token'], context)}"
        else:
            oauth = self._oauth2(auth, context)
            if auth.get("base_url_from") and not base_url:
                base_url = oauth.token()[0].base_url
        client = Client(
            name=self.name,
            base_url=base_url or render(definition.document["base_url"], context),
            auth_header=header,
            oauth=oauth,
            budget=Budget(
                f"{definition.service}:{self.name}",
                per_minute=self.config.get("rate_limit_per_minute")
                or limits["per_minute"],
            ),
            timeout=self.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
            remaining_header=limits.get("remaining_header", ""),
            reset_header=limits.get("reset_header", ""),
            reset_epoch=limits.get("reset_format") == "epoch",
            reset_duration=limits.get("reset_format") == "duration",
            remaining_used_of_limit=(limits.get("remaining_format") == "used_of_limit"),
            window_seconds=limits.get("window_seconds", 60),
            retry_after_header=limits.get("retry_after_header", "Retry-After"),
            next_hosts=tuple(definition.document.get("next_hosts", ())),
            limit_status=limits.get("limit_status", 0),
            limit_code=limits.get("limit_code", ""),
            usage_header=limits.get("usage_header", ""),
            usage_pattern=limits.get("usage_pattern", ""),
            headers=tuple(
                (name, filled)
                for name, value in definition.document.get("headers", {}).items()
                if (filled := render(value, context))
            ),
        )
        return Walker(
            client, definition, context, page_size=self.config.get("page_size")
        )

    def _oauth2(self, auth: Mapping[str, Any], context: Mapping[str, Any]) -> OAuth2:
        if self._oauth is None:
            self._oauth = OAuth2(
                name=self.name,
                scope=f"{self.definition.service}:{self.name}",
                token_url=self.config.get("token_url")
                or render(auth["token_url"], context),
                grant=auth["grant"],
                secrets={k: self.secrets[k] for k in auth["secrets"]},
                client_auth=auth.get("client_auth", "body"),
                requested_scope=auth.get("scope", ""),
                base_url_from=auth.get("base_url_from", ""),
                lifetime=auth.get("lifetime_seconds", DEFAULT_LIFETIME_SECONDS),
                timeout=self.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
                keep_secrets=self.keep_secrets,
            )
        return self._oauth

    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        self._task = job.task_id
        result = super().run(job, sink)
        if (
            job.action == Action.ERASE
            and isinstance(result, ErasureReceipt)
            and result.knows(RUNNING)
        ):
            # The vendor's deletion job did not finish within this attempt:
            # the task waits on it, checked (job state, ids queried) later.
            return Deferred(
                note=f"{self.definition.label}'s deletion job is still running",
                check_at=timezone.now() + timedelta(minutes=JOB_RECHECK_MINUTES),
                receipt=result,
            )
        root = self.definition.root
        grace = self.definition.record(root)["erase"].get("grace_days")
        if (
            grace
            and job.action == Action.ERASE
            and isinstance(result, ErasureReceipt)
            and result.per_location.get(root, {}).get("found")
        ):
            # Deleted, but the vendor destroys it only after its grace
            # period: the task waits on it, checked after that date.
            return Deferred(
                note=f"{self.definition.label} destroys a deleted {root} "
                f"{grace} days after its deletion",
                check_at=timezone.now() + timedelta(days=grace),
                receipt=result,
            )
        return result

    def health(self) -> HealthReport:
        check = self.definition.document["health"]
        walker = self._walker()
        answer = walker.client.call(
            check.get("method", "GET"), check["path"], label=check["path"]
        )
        if answer.status == 404:
            raise ConnectorError(
                f"{self.name}: {check['path']} not found: check the subdomain "
                "or base URL",
                permanent=True,
                reason=REASON_NOT_FOUND,
            )
        return HealthReport(f"ok: {self.definition.label} answered as the API user")

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        for found in self._walker().tree(identity):
            record_type = self.definition.record(found.type)
            fields = record_type.get("fields")
            data = {
                key: value
                for key, value in found.record.items()
                if fields is None or key in fields
            }
            # a dotted field (HubSpot's properties.email) read from inside
            for name in fields or ():
                if "." in name and dig(found.record, name) is not None:
                    data[name] = dig(found.record, name)
            yield AccessRecord(
                location=found.type,
                key=found.key,
                data=data,
                category=record_type["category"],
            )

    def conversation_ids(self, identity: Identity) -> list[str]:
        kinds = conversation_types(self.definition)
        if not kinds:
            raise ConnectorError(
                f"{self.label} has no conversation record type", permanent=True
            )
        return self._walker().keys_of(identity, kinds)

    def erase(self, identity: Identity) -> ErasureReceipt:
        receipt = ErasureReceipt(kind=self.kind)
        wait = self.config.get("job_wait_seconds")
        eraser = Eraser(self._walker(), task=self._task, job_wait=wait)
        eraser.erase(identity, receipt)
        return receipt

    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        return Eraser(self._walker()).verify(identity, receipt)

    def rectify(self, identity: Identity, changes: Mapping[str, str]) -> Outcome:
        outcome = Outcome()
        walker = self._walker()
        root = self.definition.root
        rule = self.definition.record(root).get("rectify")
        if rule is None:
            raise ConnectorError(
                f"{self.definition.label} cannot rectify {root} records", permanent=True
            )
        values = {
            rule["fields"][k]: v for k, v in changes.items() if k in rule["fields"]
        }
        ignored = sorted(set(changes) - set(rule["fields"]))
        for found in list(walker.roots(identity)):
            outcome.add(root, found=1)
            if not values:
                continue
            update(walker.client, rule, found, values)
            outcome.add(root, changed=1)
        if ignored:
            outcome.note = f"not held by {self.definition.label}: {', '.join(ignored)}"
        return outcome


def _uses_jobs(definition: Definition) -> bool:
    return any(
        definition.record(name)["erase"]["strategy"] == "job"
        for name in definition.order
    )
