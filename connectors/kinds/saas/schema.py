"""The JSON Schema of a SaaS definition file (connectors/kinds/saas/definitions).

One definition describes one service: where it lives, how to authenticate,
its rate limit, how to find the subject and read related records, and what
erasure and rectification do per record type. `definition.load` checks every
file against this schema and names the bad path.
"""

from __future__ import annotations

from typing import Any

PATH = {"type": "string", "pattern": "^/", "minLength": 1}
METHOD = {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]}
NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
TEMPLATES = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}

PAGINATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        # cursor: page[size] + links.next while meta.has_more (Zendesk style);
        # next_url: follow the URL at `next`; link: the RFC 8288 Link header;
        # page: a page number param; offset: an offset param.
        # token: the next page's token at `next` (Intercom's
        # pages.next.starting_after), sent back as `param`: a query
        # parameter, or a dotted path into the body of a POST search;
        # with `has_more` (OpenAI's list objects: has_more, last_id sent
        # back as `after`) a false value there ends it.
        # `size_param` (token, page, next_url) asks `size` a page on the
        # first request; a next URL carries it on.
        "type": {
            "enum": ["cursor", "next_url", "link", "page", "offset", "token", "none"]
        },
        "next": {"type": "string"},
        "has_more": {"type": "string"},
        "size_param": {"type": "string"},
        "size": {"type": "integer", "minimum": 1, "maximum": 1000},
        "param": {"type": "string"},
    },
    "required": ["type"],
    "additionalProperties": False,
}

# What every call of a definition may say: where, with which query and
# JSON body (its strings templates), and where the answer's records are.
CALL: dict[str, Any] = {
    "method": METHOD,
    "path": PATH,
    "params": TEMPLATES,
    "body": {"type": "object"},
    "select": {"type": "string"},
}

REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        **CALL,
        "pagination": PAGINATION,
        # what a redirect answer means here (not followed): named in the
        # task's error (Gorgias: 301, the customer was merged into another)
        "moved": {"type": "string", "minLength": 1},
    },
    "required": ["path"],
    "additionalProperties": False,
}

FIND: dict[str, Any] = {
    "type": "object",
    "properties": {
        "identifier": {"enum": ["email", "phone", "customer_id"]},
        **CALL,
        # the record field that must equal the identifier (searches are fuzzy)
        "match": {"type": "string"},
        # the identifier as the vendor keeps it, when it is looked up as is
        # (Front's resource aliases): `lower` e-mail, `e164` phone (+ and
        # digits only)
        "normalize": {"enum": ["lower", "e164"]},
        "pagination": PAGINATION,
    },
    "required": ["identifier", "path", "select"],
    "additionalProperties": False,
}


def _strategy(
    name: str, required: list[str], **properties: dict[str, Any]
) -> dict[str, Any]:
    """One erasure strategy done by a request to the vendor (method, path)."""
    return {
        "type": "object",
        "properties": {
            "strategy": {"const": name},
            "method": METHOD,
            "path": PATH,
            **properties,
        },
        "required": ["strategy", "method", "path", *required],
        "additionalProperties": False,
    }


STEP: dict[str, Any] = {
    "type": "object",
    "properties": CALL,
    "required": ["path"],
    "additionalProperties": False,
}

# A vendor-side deletion job (Salesforce's Bulk API 2.0 hardDelete): the
# records found of this type are collected, then one job is created for
# their ids, the ids uploaded (a CSV: `id_header`, then one id a line),
# the upload closed, and the job polled (`status`) for at most
# `wait_seconds` until its `state` is one of `done` or `failed`. Types run
# deepest first (a ticket's messages before the ticket, before the
# person). Not finished in time: the task waits on the vendor and is
# checked later; `gone` is a query of the ids (`{ids|soql_list}`) that
# must answer none, `hint` is said when the vendor refuses or fails it.
# Templates: `{job}` is the job's id, `{ids}` the record ids.
JOB: dict[str, Any] = {
    "type": "object",
    "properties": {
        "strategy": {"const": "job"},
        "create": STEP,
        "job_id": {"type": "string"},
        "upload": {
            "type": "object",
            "properties": {
                "method": METHOD,
                "path": PATH,
                "content_type": {"type": "string"},
                "id_header": {"type": "string"},
            },
            "required": ["path", "content_type", "id_header"],
            "additionalProperties": False,
        },
        "close": STEP,
        "status": STEP,
        "state": {"type": "string"},
        "done": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "failed": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "error": {"type": "string"},
        "failed_count": {"type": "string"},
        # a CSV of the records the job could not do; `error_column` says why
        "failures": STEP,
        "error_column": {"type": "string"},
        "gone": STEP,
        "hint": {"type": "string"},
        "wait_seconds": {"type": "integer", "minimum": 0, "maximum": 600},
    },
    "required": [
        "strategy",
        "create",
        "job_id",
        "upload",
        "status",
        "state",
        "done",
        "failed",
        "gone",
    ],
    "additionalProperties": False,
}

ERASE: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "strategy": {"const": "delete"},
                # in order: e.g. a soft delete, then the permanent delete
                "requests": {"type": "array", "items": REQUEST, "minItems": 1},
                # requests that answer 404 once the record is gone for good
                "gone": REQUEST,
                # the vendor destroys it this many days after the delete: the
                # erasure waits on it, checked (`gone`) after that date
                "grace_days": {"type": "integer", "minimum": 1, "maximum": 366},
                # deleted only when this field holds one of the subject's
                # identifiers (her own conversation, not one she is copied
                # on); otherwise kept, as `otherwise` says
                "only_when_hers": {"type": "string", "minLength": 1},
                "otherwise": {
                    "type": "object",
                    "properties": {
                        "reason": {"type": "string", "minLength": 1},
                        "basis": {"type": "string", "minLength": 1},
                    },
                    "required": ["reason", "basis"],
                    "additionalProperties": False,
                },
                # copies the API cannot reach outlive the delete (a model
                # provider's abuse-monitoring logs): an exemption with its
                # basis and the date until which they may persist, `days`
                # after the erasure (a number, or a config template; 0: none)
                "persists": {
                    "type": "object",
                    "properties": {
                        "days": {
                            "type": ["integer", "string"],
                            "minimum": 0,
                            "maximum": 3660,
                        },
                        "reason": {"type": "string", "minLength": 1},
                        "basis": {"type": "string", "minLength": 1},
                    },
                    "required": ["days", "reason", "basis"],
                    "additionalProperties": False,
                },
            },
            "required": ["strategy", "requests"],
            "dependentRequired": {"only_when_hers": ["otherwise"]},
            "additionalProperties": False,
        },
        _strategy(
            "redact",
            ["text", "marker"],
            text={"type": "string"},
            body=TEMPLATES,
            open_tag={"type": "string"},
            close_tag={"type": "string"},
            marker={"type": "string", "minLength": 1},
            whole_when_field={"type": "string"},
            equals_parent=NAME,
        ),
        # the vendor redacts a whole message by its id (Intercom's
        # conversation parts): the subject's own messages, and others
        # that name her; `redacted_field` says it is done
        _strategy(
            "redact_whole",
            ["text", "redacted_field"],
            body={"type": "object"},
            text={"type": "string"},
            redacted_field={"type": "string"},
            whole_when_field={"type": "string"},
            equals_parent=NAME,
        ),
        # field -> the value written over it
        _strategy("mask", ["values"], wrap={"type": "string"}, values=TEMPLATES),
        JOB,
        {
            "type": "object",
            "properties": {
                "strategy": {"enum": ["keep", "with_parent"]},
                "reason": {"type": "string"},
                "basis": {"type": "string"},
            },
            "required": ["strategy"],
            "additionalProperties": False,
        },
    ]
}

RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": NAME,
        "key": {"type": "string"},
        "parent": NAME,
        "find": {"type": "array", "items": FIND, "minItems": 1},
        "list": REQUEST,
        "fields": {"type": "array", "items": {"type": "string"}},
        "identifiers": {
            "type": "object",
            "properties": {
                kind: {"type": "array", "items": {"type": "string"}}
                for kind in ("emails", "phones", "names")
            },
            "additionalProperties": False,
        },
        "erase": ERASE,
        "rectify": {
            "type": "object",
            "properties": {
                "method": METHOD,
                "path": PATH,
                "wrap": {"type": "string"},
                "fields": {
                    "type": "object",
                    "propertyNames": {"enum": ["name", "email", "phone"]},
                    "additionalProperties": {"type": "string"},
                },
            },
            "required": ["method", "path", "fields"],
            "additionalProperties": False,
        },
    },
    "required": ["category", "key", "erase"],
    # a record is found by identifiers (the root) or listed under a parent
    "oneOf": [
        {"required": ["find"], "not": {"required": ["parent"]}},
        {"required": ["parent", "list"], "not": {"required": ["find"]}},
    ],
    "additionalProperties": False,
}

# OAuth 2.0 (RFC 6749): an access token fetched from `token_url` by a
# form-encoded POST (client_credentials, §4.4; or refresh_token, §6), cached
# for every worker until shortly before `expires_in`, sent as Bearer.
# `secrets` holds client_id and client_secret (and refresh_token for that
# grant); a refresh answer's new refresh_token is kept in the connector's
# secrets (rotation). `base_url_from` names the field of the token answer
# that is the API base URL (Salesforce's instance_url).
OAUTH2: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"const": "oauth2"},
        "grant": {"enum": ["client_credentials", "refresh_token"]},
        # a template: "{config.my_domain_url}/services/oauth2/token"
        "token_url": {"type": "string", "pattern": "^(https://|\\{)"},
        "secrets": {"type": "array", "items": NAME, "minItems": 2},
        # the client's credentials in the form body (default), or as HTTP
        # Basic (RFC 6749 §2.3.1)
        "client_auth": {"enum": ["body", "basic"]},
        "scope": {"type": "string"},
        "base_url_from": {"type": "string", "minLength": 1},
        # the token's lifetime when the answer gives no expires_in
        "lifetime_seconds": {"type": "integer", "minimum": 60},
    },
    "required": ["type", "grant", "token_url", "secrets"],
    "additionalProperties": False,
}

CONFIG_FIELD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": ["string", "integer"]},
        "enum": {"type": "array", "minItems": 1},
        "default": {"type": ["string", "integer"]},
        "pattern": {"type": "string"},
        "format": {"type": "string"},
        "minimum": {"type": "integer"},
        "maximum": {"type": "integer"},
        "description": {"type": "string"},
    },
    "required": ["type", "description"],
    "additionalProperties": False,
}

DEFINITION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Privacy Desk SaaS definition",
    "type": "object",
    "properties": {
        "service": NAME,
        "label": {"type": "string", "minLength": 1},
        "docs": {"type": "string"},
        "base_url": {"type": "string", "pattern": "^https://"},
        # other hosts a next-page URL may point to (https only), beside the
        # configured one: Front's links name the company's own API host
        # ("*.api.frontapp.com" matches one label before the suffix)
        "next_hosts": {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": "^(\\*\\.)?[a-z0-9-]+(\\.[a-z0-9-]+)+$",
            },
        },
        "config": {
            "type": "object",
            "properties": {"required": {"type": "array", "items": NAME}},
            "additionalProperties": CONFIG_FIELD,
        },
        "auth": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": "basic"},
                        "username": {"type": "string"},
                        "password": {"type": "string"},
                        "secrets": {"type": "array", "items": NAME, "minItems": 1},
                    },
                    "required": ["type", "username", "password", "secrets"],
                    "additionalProperties": False,
                },
                OAUTH2,
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": "bearer"},
                        "token": {"type": "string"},
                        "secrets": {"type": "array", "items": NAME, "minItems": 1},
                    },
                    "required": ["type", "token", "secrets"],
                    "additionalProperties": False,
                },
            ]
        },
        # headers every call carries beside the auth (OpenAI's
        # OpenAI-Project), templates; one that fills to "" is not sent
        "headers": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9-]+$"},
            "additionalProperties": {"type": "string"},
        },
        "rate_limit": {
            "type": "object",
            "properties": {
                "per_minute": {"type": "integer", "minimum": 1},
                "remaining_header": {"type": "string"},
                # a count of calls left (default), or "used/limit" (Gorgias)
                "remaining_format": {"enum": ["remaining", "used_of_limit"]},
                # the vendor's window (default 60): with no reset header, a
                # remaining count of 0 pauses until the current one ends
                "window_seconds": {"type": "integer", "minimum": 1, "maximum": 3600},
                "reset_header": {"type": "string"},
                # seconds until the reset (default), its UNIX time, or a
                # duration as Go writes it ("6m0s": OpenAI)
                "reset_format": {"enum": ["seconds", "epoch", "duration"]},
                "retry_after_header": {"type": "string"},
                # a rate-limit refusal that is not a 429 (Salesforce: 403
                # with errorCode REQUEST_LIMIT_EXCEEDED in the body)
                "limit_status": {"type": "integer", "minimum": 400, "maximum": 499},
                "limit_code": {"type": "string", "minLength": 1},
                # the share of a (daily) allocation used, read from a
                # header by a pattern with two groups: used, allowed
                "usage_header": {"type": "string"},
                "usage_pattern": {"type": "string"},
            },
            "required": ["per_minute"],
            "dependentRequired": {
                "limit_status": ["limit_code"],
                "usage_header": ["usage_pattern"],
            },
            "additionalProperties": False,
        },
        "health": {
            "type": "object",
            "properties": {"method": METHOD, "path": PATH},
            "required": ["path"],
            "additionalProperties": False,
        },
        "records": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": RECORD,
            "minProperties": 1,
        },
    },
    # `x-...` keys hold YAML anchors a definition reuses (`<<: *name`)
    "patternProperties": {"^x-": {}},
    "required": [
        "service",
        "label",
        "base_url",
        "auth",
        "rate_limit",
        "health",
        "records",
    ],
    "additionalProperties": False,
}
