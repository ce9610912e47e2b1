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
from connectors.choices import Action, Health
from connectors.disclosure import MANDATORY_ITEMS
from connectors.models import Connector
from connectors.registry import kind_choices, kind_class
from connectors.selectors import connector_secret_fields_set

# Shared with the requests API: one strict base for inputs.
from privacydesk.apikit import StrictSerializer


class KindField(serializers.ChoiceField):
    """The kind of store (component `ConnectorKindEnum`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=kind_choices(), **kwargs)


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


def _not_applicable() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"not_applicable": {"type": "string"}},
        "required": ["not_applicable"],
        "description": "The item does not apply to this store, and why.",
    }


def _text_item(description: str) -> dict[str, Any]:
    return {
        "oneOf": [{"type": "string"}, _not_applicable()],
        "description": description,
    }


def _list_item(description: str, entry: dict[str, Any]) -> dict[str, Any]:
    """One entry, a list of entries, or not applicable (an entry object and
    the not-applicable mark are both objects, so: anyOf)."""
    one = {"anyOf": [{"type": "string"}, entry]}
    return {
        "anyOf": [one, {"type": "array", "items": one}, _not_applicable()],
        "description": description,
    }


def _entry(**properties: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in properties},
        "description": "; ".join(f"`{k}`: {v}" for k, v in properties.items()),
    }


# The shapes connectors.disclosure reads. Every item is required on write
# (an access letter needs them all); an error names the path, e.g.
# `disclosure.transfers` or `disclosure.recipients[0]`.
DISCLOSURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "purposes": _list_item(
            "GDPR 15(1)(a).",
            _entry(purpose="what for", legal_basis="e.g. Art. 6(1)(f)"),
        ),
        "recipients": _list_item(
            "GDPR 15(1)(c): named, or a category with `reason` "
            "`impossible` or `manifestly_unfounded_or_excessive`.",
            _entry(
                name="who",
                role="e.g. processor",
                country="where",
                category="a category, when not named",
                reason="why not named",
                explanation="more on why",
                notify=(
                    "Art. 19: how it is told of a rectification, erasure or "
                    "restriction: `connector`, `email` or `manual`"
                ),
                contact="with `notify` `email`: the address",
                impossible_reason=(
                    "Art. 19: why telling it is impossible or disproportionate"
                ),
            ),
        ),
        "retention": _text_item("GDPR 15(1)(d): how long, or the criteria."),
        "source": _text_item("GDPR 15(1)(g): where the data came from."),
        "automated_decision_making": _list_item(
            "GDPR 15(1)(h): each solely automated decision.",
            _entry(
                activity="which processing",
                logic="the logic involved",
                significance="what it means for the subject",
                consequences="the envisaged consequences",
            ),
        ),
        "transfers": _list_item(
            "GDPR 15(2): transfers to third countries.",
            _entry(country="where", safeguards="e.g. SCCs", recipient="who"),
        ),
        "title": {
            "type": "string",
            "maxLength": 120,
            "description": "Optional: the store as the subject reads it in the "
            "letter and the package, e.g. `Support helpdesk` (default: the "
            "connector's name in words).",
        },
        "category_names": {
            "type": "object",
            "maxProperties": 200,
            "additionalProperties": {"type": "string", "maxLength": 200},
            "description": "Optional: a data category -> its name for the "
            'subject, e.g. `{"support_message": "Messages you sent to '
            'support"}` (default: the category in words).',
        },
    },
    "description": "What the subject is told about this store (GDPR 15(1)-(2)).",
}


@extend_schema_field(
    {
        **DISCLOSURE_SCHEMA,
        "required": list(MANDATORY_ITEMS),
        "description": (
            "What the subject is told about this store (GDPR 15(1)-(2)). Every "
            'item is required: a value, or `{"not_applicable": "<reason>"}`; '
            "checked by the rule the access letter uses."
        ),
    }
)
class DisclosureField(serializers.JSONField):
    """GDPR 15(1)-(2) facts for this store; checked by connectors.disclosure."""


@extend_schema_field(DISCLOSURE_SCHEMA)
class StoredDisclosureField(serializers.JSONField):
    """As stored: a connector written before the completeness check may lack
    items (it cannot be enabled again until they are filled in)."""


# --- Inputs ---------------------------------------------------------------------


class ConnectorCreateSerializer(StrictSerializer):
    name = serializers.CharField(
        max_length=60, help_text="A slug, unique: letters, digits, - and _."
    )
    kind = KindField()
    config = ConfigField()
    secrets = SecretsField(required=False, allow_null=True)
    data_categories = CategoriesField()
    disclosure = DisclosureField()
    enabled = serializers.BooleanField(default=True)


class ConnectorUpdateSerializer(StrictSerializer):
    """Only the keys given change; the kind never does."""

    name = serializers.CharField(max_length=60, required=False)
    config = ConfigField(required=False)
    secrets = SecretsField(required=False, allow_null=True)
    data_categories = CategoriesField(required=False)
    disclosure = DisclosureField(required=False)
    enabled = serializers.BooleanField(required=False)


class ConnectorFilterSerializer(serializers.Serializer[Any]):
    kind = KindField(required=False, help_text="Only connectors of this kind.")
    enabled = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true or false."
    )


# --- Outputs --------------------------------------------------------------------

ACTIONS_SCHEMA = serializers.ListField(child=serializers.ChoiceField(Action.choices))


class HealthWarningSerializer(serializers.Serializer[Any]):
    """Something that works but should be fixed; the store stays healthy."""

    message = serializers.CharField(
        read_only=True,
        help_text="What is wrong and where, e.g. `customers.email: no index "
        'serves the email match lower("email")`.',
    )
    fix = serializers.CharField(
        read_only=True,
        help_text="What to run or change, e.g. the `CREATE INDEX` statement; "
        "empty when there is none to give.",
    )


class ConnectorSerializer(serializers.Serializer[Any]):
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
        help_text="What this store does by itself as configured; other actions "
        "become manual tasks."
    )
    kind_actions = serializers.SerializerMethodField(
        help_text="What its kind can do; `actions` may be narrower (an sql map "
        "restricts only where it names a flag column)."
    )
    data_categories = CategoriesField(read_only=True)
    disclosure = StoredDisclosureField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    health_detail = serializers.CharField(read_only=True)
    health_warnings = HealthWarningSerializer(
        many=True,
        read_only=True,
        help_text="Warnings of the last health check (see the test action).",
    )
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

    @extend_schema_field(ACTIONS_SCHEMA)
    def get_actions(self, connector: Connector) -> list[str]:
        try:
            actions = connector.instance().actions
        except (ConfigError, ImportError):
            return []
        return [action for action in Action.values if action in actions]

    @extend_schema_field(ACTIONS_SCHEMA)
    def get_kind_actions(self, connector: Connector) -> list[str]:
        try:
            actions = kind_class(connector.kind).actions
        except (ConfigError, ImportError):
            return []
        return [action for action in Action.values if action in actions]


class HealthCheckSerializer(serializers.Serializer[Any]):
    """The answer of a health check."""

    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    detail = serializers.CharField(source="health_detail", read_only=True)
    warnings = HealthWarningSerializer(
        source="health_warnings",
        many=True,
        read_only=True,
        help_text="Found by the check without making the store unhealthy: an "
        "sql store's identity column that no index serves (each request scans "
        "the table), with the statement that adds one.",
    )
    checked_at = serializers.DateTimeField(source="health_checked_at", read_only=True)
