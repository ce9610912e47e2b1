"""The connector form generated for one kind: its config schema as inputs,
its secrets as write-only password inputs, the disclosure as plain fields.

The same form adds and edits a connector (the kind is fixed by then). A
secret input is never rendered back; left blank on an edit it keeps the
stored secret. A service's error lands on the input its path names:
`config.subdomain` on the subdomain, `config.tables[2].identity` on the
tables, `secrets.api_token` on the token, `disclosure.transfers[0]` on the
transfers.
"""

from __future__ import annotations

from typing import Any

from django import forms

from connectors.base import ConnectorKind
from dashboard.forms.connector_disclosure import (
    SERVICE_FIELDS as DISCLOSURE_FIELDS,
)
from dashboard.forms.connector_disclosure import (
    disclosure_fields,
    disclosure_from,
    disclosure_initial,
)
from dashboard.forms.connector_schema import (
    CONFIG_PREFIX,
    ConfigField,
    config_fields,
    config_value,
    initial_value,
)
from dashboard.forms.connectors import JsonTextField, pretty_json
from privacydesk.forms import ServiceErrorsMixin

SECRET_PREFIX = "secret__"
WHOLE_CONFIG = "config"  # a kind whose schema names no properties


class ConnectorFieldsForm(ServiceErrorsMixin, forms.Form):
    """`connector_create` / `connector_update` for one kind, field by field."""

    show_error_path = True

    name = forms.CharField(
        max_length=60,
        help_text="A short slug, e.g. helpdesk-db; shown on tasks and in evidence.",
    )
    data_categories = forms.CharField(
        label="Data categories",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "contact, support_ticket"}),
        help_text="Comma-separated: what this store holds about a person.",
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Enabled",
        help_text="New requests fan out to enabled connectors only.",
    )

    def __init__(
        self,
        *args: Any,
        kind: type[ConnectorKind],
        connector: Any = None,
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.connector = connector
        schema = kind.config_schema()
        made = config_fields(schema)
        self.config_fields: list[ConfigField] = [spec for spec, _ in made]
        if connector is not None:
            kwargs.setdefault("initial", self._initial(connector))
        super().__init__(*args, **kwargs)
        for spec, field in made:
            self.fields[spec.form_name] = field
        if not made:  # a kind whose schema names no fields: the config as JSON
            self.fields[WHOLE_CONFIG] = JsonTextField(
                label="Configuration (JSON)",
                blank_value={},
                required=False,
                help_text="Checked by the kind; an error names its path.",
            )
        for secret in kind.secret_fields:
            self.fields[f"{SECRET_PREFIX}{secret}"] = forms.CharField(
                label=secret.replace("_", " ").capitalize(),
                required=False,
                strip=False,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
                help_text="Leave blank to keep the stored one."
                if connector is not None
                else "Stored encrypted; never shown again.",
            )
        self.fields.update(disclosure_fields())
        self.paths = {
            **{f"config.{s.name}": s.form_name for s in self.config_fields},
            **{f"secrets.{s}": f"{SECRET_PREFIX}{s}" for s in kind.secret_fields},
            **DISCLOSURE_FIELDS,
            "config": self.config_fields[0].form_name
            if self.config_fields
            else WHOLE_CONFIG,
        }

    def service_error_field(self, path: str) -> str | None:
        """The input of a service error's path (`config.subdomain`,
        `secrets.api_token`, `disclosure.transfers[0]`)."""
        if path in self.paths:
            return self.paths[path]
        prefixes = [p for p in self.paths if path.startswith((p + ".", p + "["))]
        if prefixes:
            return self.paths[max(prefixes, key=len)]
        return super().service_error_field(path)

    def _initial(self, connector: Any) -> dict[str, Any]:
        config = connector.config or {}
        initial: dict[str, Any] = {
            "name": connector.name,
            "data_categories": ", ".join(connector.data_categories or []),
            "enabled": connector.enabled,
            **disclosure_initial(connector.disclosure),
        }
        for spec in self.config_fields:
            if spec.name in config:
                initial[spec.form_name] = initial_value(spec.shape, config[spec.name])
        if not self.config_fields:
            initial[WHOLE_CONFIG] = pretty_json(config)
        return initial

    def clean_for_test(self) -> bool:
        """Check only what a test connection reads (the config and secret
        inputs): other inputs' errors are dropped, as nothing is saved."""
        self.is_valid()
        kept = {spec.form_name for spec in self.config_fields} | {WHOLE_CONFIG}
        kept |= {f"{SECRET_PREFIX}{name}" for name in self.kind.secret_fields}
        for name in list(self.errors):
            if name not in kept:
                del self.errors[name]
        return not self.errors

    def clean_data_categories(self) -> list[str]:
        text = self.cleaned_data.get("data_categories", "")
        return [part.strip() for part in text.split(",") if part.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["disclosure"] = disclosure_from(self)
        return cleaned

    def config(self) -> dict[str, Any]:
        """The config the inputs say (a blank optional input is left out, so
        the kind's default applies); on an edit, stored keys no input shows
        are kept."""
        if not self.config_fields:
            value = self.cleaned_data.get(WHOLE_CONFIG)
            return value if isinstance(value, dict) else {}
        shown = {spec.name for spec in self.config_fields}
        stored = (self.connector.config or {}) if self.connector is not None else {}
        config = {k: v for k, v in stored.items() if k not in shown}
        for spec in self.config_fields:
            given, value = config_value(
                spec.shape, self.cleaned_data.get(spec.form_name)
            )
            if given:
                config[spec.name] = value
        return config

    def secrets(self) -> dict[str, str]:
        """The secrets typed; on an edit, those left blank are not given."""
        return {
            name: self.cleaned_data[f"{SECRET_PREFIX}{name}"]
            for name in self.kind.secret_fields
            if self.cleaned_data.get(f"{SECRET_PREFIX}{name}")
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "name": data["name"],
            "config": self.config(),
            "data_categories": data["data_categories"],
            "disclosure": data["disclosure"],
            "enabled": data["enabled"],
        }
        secrets = self.secrets()
        if self.connector is None:
            kwargs["kind"] = self.kind.kind
            kwargs["secrets"] = secrets
        elif secrets:
            kwargs["secrets"] = secrets
        return kwargs

    # -- what the template shows -------------------------------------------
    def config_bound_fields(self) -> list[tuple[forms.BoundField, str]]:
        if not self.config_fields:
            return [(self[WHOLE_CONFIG], "")]
        return [(self[spec.form_name], spec.example) for spec in self.config_fields]

    def secret_bound_fields(self) -> list[forms.BoundField]:
        return [self[f"{SECRET_PREFIX}{name}"] for name in self.kind.secret_fields]

    def disclosure_item(self, item: str) -> dict[str, Any]:
        return {
            "na": self[f"disclosure_{item}_na"],
            "reason": self[f"disclosure_{item}_reason"],
        }


__all__ = ["CONFIG_PREFIX", "SECRET_PREFIX", "ConnectorFieldsForm"]
