"""Shapes of the connectors API: strict inputs, outputs without secrets.

The config, secrets, categories and disclosure are passed to the services as
sent, so their errors carry the path inside them (`config.tables[2].identity`,
`disclosure.purposes[0]`); the serializers here only check the outer shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connectors.base import ConfigError
from connectors.choices import Action, ConnectorKindChoice, Health
from connectors.models import Connector
from connectors.registry import kind_class
from connectors.selectors import connector_secret_fields_set

# Shared with the requests API: one strict base for inputs.
from privacydesk.apikit import StrictSerializer


class KindField(serializers.ChoiceField):
    """The kind of store (component `ConnectorKindEnum`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ConnectorKindChoice.choices, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": (
            "The kind's configuration, e.g. for `files`: "
            '`{"folder": "/srv/chats", "pattern": "*.jsonl", "identity": '
            '{"email": "customer.email"}, "text_fields": ["messages[].text"], '
            '"erase": "redact_pii"}`. No secrets here.'
        ),
    }
)
class ConfigField(serializers.JSONField):
    """Validated by the kind; errors name the path, e.g. `config.folder`."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True},
        "writeOnly": True,
        "description": (
            "Write-only secrets by name (e.g. `password`). On update a given "
            "key replaces its secret, null removes it, omitted keys stay. "
            "Never returned: see `secret_fields_set`."
        ),
    }
)
class SecretsField(serializers.JSONField):
    """Checked against the kind's `secret_fields`."""


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": 50},
        "description": 'Categories of data the store holds, e.g. ["contact"].',
    }
)
class CategoriesField(serializers.JSONField):
    """Short names; checked by the service."""


class DisclosureSchemaSerializer(serializers.Serializer):
    """Documentation only: what the subject is told about this store."""

    purposes = serializers.ListField(child=serializers.CharField(), required=False)
    recipients = serializers.ListField(child=serializers.CharField(), required=False)
    retention = serializers.CharField(required=False)
    source = serializers.CharField(required=False)
    automated_decision_making = serializers.CharField(required=False)

    class Meta:
        ref_name = "ConnectorDisclosure"


@extend_schema_field(DisclosureSchemaSerializer)
class DisclosureField(serializers.JSONField):
    """GDPR 15(1)(a)-(h) facts for this store; keys checked by the service."""


# --- Inputs ---------------------------------------------------------------------


class ConnectorCreateSerializer(StrictSerializer):
    name = serializers.CharField(
        max_length=60, help_text="A slug, unique: letters, digits, - and _."
    )
    kind = KindField()
    config = ConfigField()
    secrets = SecretsField(required=False, allow_null=True)
    data_categories = CategoriesField(required=False)
    disclosure = DisclosureField(required=False)
    enabled = serializers.BooleanField(default=True)


class ConnectorUpdateSerializer(StrictSerializer):
    """Only the keys given change; the kind never does."""

    name = serializers.CharField(max_length=60, required=False)
    config = ConfigField(required=False)
    secrets = SecretsField(required=False, allow_null=True)
    data_categories = CategoriesField(required=False)
    disclosure = DisclosureField(required=False)
    enabled = serializers.BooleanField(required=False)


class ConnectorFilterSerializer(serializers.Serializer):
    kind = KindField(required=False, help_text="Only connectors of this kind.")
    enabled = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true or false."
    )


# --- Outputs --------------------------------------------------------------------


class ConnectorSerializer(serializers.Serializer):
    """A connector as integrations see it: everything but its secrets."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(read_only=True)
    kind = KindField(read_only=True)
    config = ConfigField(read_only=True)
    secret_fields_set = serializers.SerializerMethodField(
        help_text="Names of the secrets this connector holds (never their values)."
    )
    accepted_secret_fields = serializers.SerializerMethodField(
        help_text="Names of the secrets this kind takes."
    )
    actions = serializers.SerializerMethodField(
        help_text="What this store can do by itself; other actions become manual."
    )
    data_categories = CategoriesField(read_only=True)
    disclosure = DisclosureField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    health_detail = serializers.CharField(read_only=True)
    health_checked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_secret_fields_set(self, connector: Connector) -> list[str]:
        return connector_secret_fields_set(connector=connector)

    def get_accepted_secret_fields(self, connector: Connector) -> list[str]:
        try:
            return list(kind_class(connector.kind).secret_fields)
        except (ConfigError, ImportError):
            return []

    @extend_schema_field(
        {"type": "array", "items": {"type": "string", "enum": list(Action.values)}}
    )
    def get_actions(self, connector: Connector) -> list[str]:
        try:
            actions = kind_class(connector.kind).actions
        except (ConfigError, ImportError):
            return []
        return [action for action in Action.values if action in actions]


class HealthCheckSerializer(serializers.Serializer):
    """The answer of a health check."""

    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    detail = serializers.CharField(source="health_detail", read_only=True)
    checked_at = serializers.DateTimeField(source="health_checked_at", read_only=True)
