"""SaaS definitions: the shipped ones load, a bad one is refused naming the
file and the path inside it, and each becomes a kind of the registry."""

from __future__ import annotations

import copy

import pytest
import yaml

from connectors.kinds.saas.budget import Budget
from connectors.kinds.saas.client import Client
from connectors.kinds.saas.definition import (
    FOLDER,
    DefinitionError,
    definition,
    parse,
    services,
)
from connectors.registry import KINDS, kind_class
from privacydesk.errors import ValidationFailed


def _zendesk() -> dict:
    return yaml.safe_load((FOLDER / "zendesk.yaml").read_text())


def _refused(document: dict) -> str:
    with pytest.raises(DefinitionError) as refused:
        parse(yaml.safe_dump(document), source="broken.yaml")
    return str(refused.value)


def test_every_shipped_definition_loads_and_is_a_kind() -> None:
    assert "zendesk" in services()
    for service in services():
        loaded = definition(service)
        assert KINDS[service] == f"saas:{service}"
        cls = kind_class(service)
        assert cls.kind == service
        assert cls.definition is loaded
        assert cls.secret_fields == loaded.secrets
    zendesk = definition("zendesk")
    assert zendesk.order == ("user", "identity", "ticket", "comment")
    assert zendesk.children("ticket") == ("comment",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["records"]["comment"]["erase"].pop("marker"),
            "records.comment.erase",
        ),
        (
            lambda d: d["records"]["user"]["erase"].update(strategy="shred"),
            "records.user.erase",
        ),
        (lambda d: d.update(base_url="http://plain.example.com"), "base_url"),
        (lambda d: d["auth"].pop("secrets"), "auth"),
        (
            lambda d: d["records"]["ticket"]["list"].update(path="no-slash"),
            "records.ticket",
        ),
        (lambda d: d.pop("records"), "(top): 'records' is a required property"),
        (lambda d: d.update(next_hosts=["https://x.example.com"]), "next_hosts.0"),
        (
            lambda d: d["records"]["user"]["find"][0].update(normalize="upper"),
            "records.user.find.0.normalize",
        ),
    ],
)
def test_a_bad_definition_is_refused_naming_the_path(change, message) -> None:
    document = copy.deepcopy(_zendesk())
    change(document)

    refused = _refused(document)

    assert refused.startswith("broken.yaml: ")
    assert message in refused


def test_record_types_must_hang_from_one_root() -> None:
    orphan = copy.deepcopy(_zendesk())
    orphan["records"]["comment"]["parent"] = "article"
    second_root = copy.deepcopy(_zendesk())
    second_root["records"]["ticket"] = {
        **second_root["records"]["user"],
        "category": "support_ticket",
    }

    assert "records.comment.parent: 'article'" in _refused(orphan)
    assert "exactly one record type is found by identifiers" in _refused(second_root)
    with pytest.raises(DefinitionError, match="not YAML"):
        parse("records: [unclosed", source="x.yaml")


def test_the_config_schema_comes_from_the_definition() -> None:
    cls = kind_class("zendesk")
    schema = cls.config_schema()

    assert schema["required"] == ["subdomain", "email"]
    assert {"subdomain", "email", "base_url", "rate_limit_per_minute"} <= set(
        schema["properties"]
    )
    assert cls.validate_config({"subdomain": "acme", "email": "a@acme.com"})
    for config, field in [
        ({"subdomain": "acme"}, "config.email"),
        ({"subdomain": "Acme Corp", "email": "a@acme.com"}, "config.subdomain"),
        ({"subdomain": "acme", "email": "a@acme.com", "extra": 1}, "config.extra"),
        (
            {"subdomain": "a", "email": "a@a.io", "base_url": "http://zd.example.com"},
            "config.base_url",
        ),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            cls.validate_config(config)
        assert refused.value.field == field
    with pytest.raises(ValidationFailed) as no_token:
        cls.validate_secrets({"api_token": " "})
    assert no_token.value.field == "secrets.api_token"


def test_a_used_of_limit_header_is_read_as_the_calls_left() -> None:
    # Gorgias (and Shopify) send "used/limit"; others a count left
    budget = Budget("definition-test", per_minute=60)
    bucket = Client(
        name="g",
        base_url="https://acme.example",
        auth_header="",
        budget=budget,
        remaining_header="X-Call-Limit",
        remaining_used_of_limit=True,
    )
    plain = Client(
        name="z", base_url="https://acme.example", auth_header="", budget=budget
    )

    assert bucket._remaining("10/40") == 30
    assert bucket._remaining(" 40 / 40 ") == 0
    assert [bucket._remaining(v) for v in ("7", "a/40", "", None)] == [None] * 4
    assert plain._remaining("7") == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rate_limit"].update(remaining_format="percent"), "rate_limit"),
        (lambda d: d["rate_limit"].update(window_seconds=0), "rate_limit"),
        (
            lambda d: d["records"]["user"]["erase"]["gone"].update(moved=""),
            "records.user.erase",
        ),
    ],
)
def test_the_rate_and_redirect_options_are_checked(change, message) -> None:
    document = copy.deepcopy(_zendesk())
    change(document)

    assert message in _refused(document)


def test_gorgias_tickets_go_before_her_and_are_verified_by_id() -> None:
    gorgias = definition("gorgias")

    assert gorgias.order == ("customer", "ticket", "message")
    assert gorgias.record("ticket")["erase"]["gone"]["path"] == "/api/tickets/{id}"
    assert gorgias.document["rate_limit"]["remaining_format"] == "used_of_limit"
    assert "merged" in gorgias.record("customer")["erase"]["requests"][0]["moved"]


def test_an_unknown_template_filter_is_refused_naming_the_path() -> None:
    document = _zendesk()
    document["records"]["user"]["find"][0]["params"] = {"query": "{value|sql}"}

    message = _refused(document)

    assert "records.user.find.0.params.query" in message
    assert "no template filter 'sql'" in message


def test_a_usage_pattern_needs_two_groups() -> None:
    document = _zendesk()
    document["rate_limit"]["usage_header"] = "Sforce-Limit-Info"
    document["rate_limit"]["usage_pattern"] = "api-usage=(\\d+)"

    assert "needs two groups" in _refused(document)


def test_a_job_strategy_must_say_how_it_is_checked() -> None:
    document = yaml.safe_load((FOLDER / "salesforce.yaml").read_text())
    del document["records"]["case"]["erase"]["gone"]

    assert "records.case.erase" in _refused(document)


def _openai() -> dict:
    return yaml.safe_load((FOLDER / "openai.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["records"]["completion"]["erase"]["persists"].pop("basis"),
            "records.completion.erase",
        ),
        (
            lambda d: d["records"]["completion"]["erase"]["persists"].update(days=-1),
            "records.completion.erase",
        ),
        (lambda d: d.update(headers={"Bad Header": "x"}), "headers"),
        (lambda d: d["rate_limit"].update(reset_format="iso"), "rate_limit"),
    ],
)
def test_what_outlives_a_delete_and_the_extra_headers_are_checked(
    change, message
) -> None:
    document = copy.deepcopy(_openai())
    change(document)

    assert message in _refused(document)


def test_a_reset_header_may_be_a_duration() -> None:
    # OpenAI's x-ratelimit-reset-requests: "1s", "6m0s", "12ms"
    client = Client(
        name="o",
        base_url="https://api.example",
        auth_header="",
        budget=Budget("definition-test", per_minute=60),
        reset_header="x-reset",
        reset_duration=True,
    )

    def reset(value: str) -> float | None:
        return client._reset_in({"x-reset": value})

    assert reset("1s") == 1.0
    assert reset("6m0s") == 360.0
    assert reset("12ms") == pytest.approx(0.012)
    assert reset("1h2m3.5s") == 3723.5
    assert [reset(v) for v in ("", "12", "soon", "1s later")] == [None] * 4


def test_a_parameter_name_and_a_digest_are_templates() -> None:
    from connectors.kinds.saas.templates import render_all, sha256

    context = {"config.email_key": "email_sha256", "value": "ada@example.com"}

    filled = render_all({"metadata[{config.email_key}]": "{value|sha256}"}, context)

    assert filled == {"metadata[email_sha256]": sha256("ada@example.com")}
    assert len(filled["metadata[email_sha256]"]) == 64
