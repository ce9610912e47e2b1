"""Form fields generated from a connector kind's config schema (JSON Schema).

Strings, numbers, integers, booleans and enums become inputs, with the
schema's description as help, its default as the initial value and its
required list marked; an array of enums becomes checkboxes, an array of
strings one line each. What is too nested for inputs (the sql kind's tables)
stays a JSON textarea for that one field, with an example from the schema's
`examples` or made from its shape. The kind's `validate_config` stays the
authority: these fields only shape what is typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms

from dashboard.forms.connectors import JsonTextField, pretty_json

CONFIG_PREFIX = "config__"
LONG_TEXT = 300  # a maxLength above this gets a textarea
EXAMPLE_DEPTH = 4


@dataclass(frozen=True)
class ConfigField:
    """One config property and the form field that holds it."""

    name: str  # the property: config.<name>
    form_name: str
    shape: str  # text | integer | number | boolean | choice | choices | lines | json
    example: str = ""  # for a JSON field: what to type


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a local `$ref` (#/$defs/x) followed."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 10:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return {}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def example_of(schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """A value of `schema`'s shape: its example, default, first choice, or
    one made from its properties (required ones, else the first few)."""
    schema = _resolve(schema, root)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return example_of(schema[key][0], root, depth)
    kind = schema.get("type")
    if depth >= EXAMPLE_DEPTH:
        return {} if kind == "object" else "…"
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        wanted = [name for name in schema.get("required", ()) if name in properties]
        wanted = wanted or list(properties)[:3]
        return {name: example_of(properties[name], root, depth + 1) for name in wanted}
    if kind == "array":
        return [example_of(schema.get("items", {}), root, depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return "…"


def _shape(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if schema.get("enum"):
        return "choice"
    kind = schema.get("type")
    if kind == "array":
        items = _resolve(schema.get("items", {}), root)
        if items.get("enum"):
            return "choices"
        if items.get("type") == "string" and not items.get("enum"):
            return "lines"
        return "json"
    if kind in ("string", "integer", "number", "boolean"):
        return str(kind)
    return "json"


def _help(schema: dict[str, Any]) -> str:
    text = str(schema.get("description", ""))
    if "default" in schema and _shape(schema, {}) not in ("boolean",):
        default = schema["default"]
        shown = default if isinstance(default, str) else json.dumps(default)
        text = f"{text} (default {shown})" if text else f"Default {shown}."
    return text


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def config_fields(schema: dict[str, Any]) -> list[tuple[ConfigField, forms.Field]]:
    """A form field per property of `schema`, in the schema's order."""
    required = set(schema.get("required", ()))
    made: list[tuple[ConfigField, forms.Field]] = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, schema)
        shape = _shape(prop, schema)
        is_required = name in required
        form_name = f"{CONFIG_PREFIX}{name}"
        common: dict[str, Any] = {
            "label": _label(name),
            "required": is_required and shape != "boolean",
            "help_text": _help(prop),
        }
        field: forms.Field
        example = ""
        if shape == "choice":
            choices = [(json.dumps(v), str(v)) for v in prop["enum"]]
            if not is_required:
                choices.insert(0, ("", "(default)" if "default" in prop else "—"))
            field = forms.ChoiceField(choices=choices, **common)
        elif shape == "choices":
            items = _resolve(prop.get("items", {}), schema)
            field = forms.MultipleChoiceField(
                choices=[(json.dumps(v), str(v)) for v in items["enum"]],
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        elif shape == "lines":
            field = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                **{**common, "help_text": f"{common['help_text']} One per line."},
            )
        elif shape == "integer":
            field = forms.IntegerField(
                min_value=prop.get("minimum"), max_value=prop.get("maximum"), **common
            )
        elif shape == "number":
            field = forms.FloatField(
                min_value=prop.get("minimum"), max_value=prop.get("maximum"), **common
            )
        elif shape == "boolean":
            field = forms.BooleanField(**common)
        elif shape == "string":
            attrs: dict[str, Any] = {"spellcheck": "false"}
            widget: forms.Widget
            if prop.get("maxLength", 0) > LONG_TEXT:
                widget = forms.Textarea(attrs={"rows": 4})
            elif prop.get("format") == "email":
                widget = forms.EmailInput(attrs={**attrs, "autocomplete": "off"})
            elif prop.get("format") == "uri" or name.endswith("url"):
                # a text input (styled as every other) that phones type URLs in
                widget = forms.TextInput(attrs={**attrs, "inputmode": "url"})
            else:
                widget = forms.TextInput(attrs=attrs)
            field = forms.CharField(
                max_length=prop.get("maxLength"), widget=widget, **common
            )
        else:
            example = pretty_json(example_of(prop, schema))
            field = JsonTextField(
                **{
                    **common,
                    "label": f"{_label(name)} (JSON)",
                },
            )
        if "default" in prop:
            field.initial = initial_value(shape, prop["default"])
        made.append((ConfigField(name, form_name, shape, example), field))
    return made


def initial_value(shape: str, value: Any) -> Any:
    """A config value as its input shows it."""
    if shape == "choice":
        return json.dumps(value)
    if shape == "choices":
        return [json.dumps(v) for v in value] if isinstance(value, list) else []
    if shape == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else ""
    if shape == "json":
        return pretty_json(value)
    return value


def config_value(shape: str, value: Any) -> tuple[bool, Any]:
    """(given, value) of a cleaned input; a blank optional input is not
    given, so the kind's default applies."""
    if shape == "boolean":
        return True, bool(value)
    if value in (None, "", []):
        return False, None
    if shape == "choice":
        return True, json.loads(value)
    if shape == "choices":
        return True, [json.loads(v) for v in value]
    if shape == "lines":
        return True, [line.strip() for line in value.splitlines() if line.strip()]
    if shape == "number" and float(value).is_integer():
        return True, int(value)
    if shape == "string":
        return True, value.strip()
    return True, value
