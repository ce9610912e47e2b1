"""The Salesforce stand-in's HTTP side: the REST API calls salesforce.yaml
makes, under /services/data/vXX.X: SOQL by `query` and `queryAll` (only the
statement shapes the definition sends: `SELECT fields FROM Object WHERE
Field = 'literal'` or `WHERE Id IN ('a', 'b')`, literals with SOQL's escape
sequences; anything else 400 MALFORMED_QUERY), small pages followed by
`nextRecordsUrl`, PATCH and DELETE (to the Recycle Bin) by id, Bulk API 2.0
ingest jobs (create, CSV upload, UploadComplete, status, failedResults)
that finish after a delay, a Bearer session (401 INVALID_SESSION_ID), the
org's request allocation (403 REQUEST_LIMIT_EXCEEDED, no Retry-After;
`Sforce-Limit-Info: api-usage=n/m` on every answer), an optional 5xx rate,
a token revoked after N calls, and `/_standin/state.json`.

Sources: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-queryall.html
https://developer.salesforce.com/docs/platform/api-asynch/guide/bulk-api-2-0-ingest.html

    standin = start(token="00D...!AQ...")  # a thread on 127.0.0.1:<free port>
    standin.url, standin.account, standin.stats; standin.stop()
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

from standins.http import Handler, Raw, Service, routes, starter
from standins.oauth import TokenIssuer
from standins.salesforce.state import CLIENT_ID, PREFIX, Org

StandIn = Service[Org]
# A day's allocation (Enterprise: 100,000 + per licence); a test sets less.
PER_DAY = 15_000
DAY_SECONDS = 86_400.0
DATA = r"/services/data/v(\d+\.\d)"


def _error(code: str, message: str) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code}]


class MalformedQuery(ValueError):
    pass


_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<object>\w+)\s+WHERE\s+"
    r"(?P<field>\w+)\s*(?P<op>=|IN\b)\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def parse(statement: str) -> tuple[list[str], str, str, list[str]]:
    """(fields, object, where field, values) of the shapes the definition
    sends; MalformedQuery for anything else."""
    shape = _SELECT.match(statement)
    if shape is None:
        raise MalformedQuery("unexpected token: expected SELECT ... FROM ... WHERE")
    fields = [name.strip() for name in shape["fields"].split(",")]
    if not all(re.fullmatch(r"\w+", name) for name in fields):
        raise MalformedQuery("unexpected token in the field list")
    rest = shape["rest"].strip()
    if shape["op"] == "=":
        value, end = _literal(rest, 0)
        values = [value]
    else:
        if not rest.startswith("("):
            raise MalformedQuery("expected ( after IN")
        values, end = [], 1
        while True:
            end = _skip(rest, end)
            value, end = _literal(rest, end)
            values.append(value)
            end = _skip(rest, end)
            if end < len(rest) and rest[end] == ",":
                end += 1
                continue
            if end < len(rest) and rest[end] == ")":
                end += 1
                break
            raise MalformedQuery("expected , or ) in the IN list")
    if rest[end:].strip():
        raise MalformedQuery(f"unexpected token: {rest[end:].strip()[:20]!r}")
    return fields, shape["object"], shape["field"], values


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _literal(text: str, at: int) -> tuple[str, int]:
    """A quoted string at `at`: its value (escapes undone) and where it ends.
    Source: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
    """
    if at >= len(text) or text[at] != "'":
        raise MalformedQuery("expected a quoted string")
    out: list[str] = []
    index = at + 1
    while index < len(text):
        char = text[index]
        if char == "'":
            return "".join(out), index + 1
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following.lower() in _ESCAPES:
                out.append(_ESCAPES[following.lower()])
                index += 2
                continue
            if following == "u" and re.fullmatch(
                r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]
            ):
                out.append(chr(int(text[index + 2 : index + 6], 16)))
                index += 6
                continue
            raise MalformedQuery("invalid escape sequence in a string")
        out.append(char)
        index += 1
    raise MalformedQuery("unterminated string")


class _Handler(Handler):
    standin: StandIn
    token_path = "/services/oauth2/token"
    routes = routes(
        DATA,
        [
            ("GET", r"", "resources"),
            ("GET", r"/query", "query"),
            ("GET", r"/queryAll", "query_all"),
            ("GET", r"/(?:query|queryAll)/(01g[\w-]+)", "more"),
            ("PATCH", r"/sobjects/(\w+)/(\w+)", "update"),
            ("DELETE", r"/sobjects/(\w+)/(\w+)", "delete"),
            ("POST", r"/jobs/ingest", "job_create"),
            ("PUT", r"/jobs/ingest/(\w+)/batches", "job_upload"),
            ("PATCH", r"/jobs/ingest/(\w+)", "job_close"),
            ("GET", r"/jobs/ingest/(\w+)", "job_info"),
            ("GET", r"/jobs/ingest/(\w+)/failedResults", "job_failures"),
        ],
        suffix="/?",
    )
    refusals = {
        401: _error("INVALID_SESSION_ID", "Session expired or invalid"),
        404: _error("NOT_FOUND", "The requested resource does not exist"),
        # over the org's allocation: 403, not 429 (errorcodes.htm)
        429: _error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        503: _error("SERVER_UNAVAILABLE", "Server unavailable"),
    }
    auth_first = True
    retry_after = False  # none documented
    numeric_ids = False
    limit_status = 403

    def _authenticated(self) -> bool:
        return self.bearer_valid()

    def budget_headers(self) -> dict[str, str]:
        if not self.authorized:
            return {}
        used = self.standin.per_window - self.standin.remaining()
        return {"Sforce-Limit-Info": f"api-usage={used}/{self.standin.per_window}"}

    @property
    def org(self) -> Org:
        return self.standin.account

    # -- routes ------------------------------------------------------------------
    def _resources(self, version: str, body: Any) -> tuple[int, Any]:
        base = f"/services/data/v{version}"
        return 200, {
            "query": f"{base}/query",
            "queryAll": f"{base}/queryAll",
            "sobjects": f"{base}/sobjects",
            "jobs": f"{base}/jobs",
        }

    def _query(self, version: str, body: Any) -> tuple[int, Any]:
        return self._run_query(version, all_rows=False)

    def _query_all(self, version: str, body: Any) -> tuple[int, Any]:
        return self._run_query(version, all_rows=True)

    def _run_query(self, version: str, *, all_rows: bool) -> tuple[int, Any]:
        try:
            fields, kind, where, values = parse(self.query.get("q", ""))
        except MalformedQuery as error:
            return 400, _error("MALFORMED_QUERY", str(error))
        known = self.org.rows.get(kind)
        if known is None:
            return 400, _error(
                "INVALID_TYPE", f"sObject type '{kind}' is not supported."
            )
        columns = {"Id", "IsDeleted", *(k for row in known.values() for k in row)}
        for name in [*fields, where]:
            if name not in columns:
                return 400, _error(
                    "INVALID_FIELD", f"No such column '{name}' on entity '{kind}'."
                )
        rows = self.org.select(kind, where, values, all_rows=all_rows)
        shaped = [self._shaped(version, kind, row, fields) for row in rows]
        return 200, self._page(version, shaped, all_rows=all_rows)

    def _more(self, version: str, locator: str, body: Any) -> tuple[int, Any]:
        with self.org.lock:
            rows = self.org.cursors.pop(locator, None)
        if rows is None:
            return 400, _error("INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(version, rows, all_rows="queryAll" in self.path)

    def _page(
        self, version: str, rows: list[dict[str, Any]], *, all_rows: bool
    ) -> dict[str, Any]:
        size = self.standin.page_size
        page: dict[str, Any] = {
            "totalSize": len(rows),
            "done": len(rows) <= size,
            "records": rows[:size],
        }
        if len(rows) > size:
            locator = f"01gHs{uuid.uuid4().hex[:10]}-{size}"
            with self.org.lock:
                self.org.cursors[locator] = rows[size:]
            resource = "queryAll" if all_rows else "query"
            page["nextRecordsUrl"] = f"/services/data/v{version}/{resource}/{locator}"
        return page

    @staticmethod
    def _shaped(
        version: str, kind: str, row: dict[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        return {
            "attributes": {
                "type": kind,
                "url": f"/services/data/v{version}/sobjects/{kind}/{row['Id']}",
            },
            **{name: row.get(name) for name in fields},
        }

    def _update(self, version: str, kind: str, rid: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body:
            return 400, _error("JSON_PARSER_ERROR", "a JSON object of fields expected")
        error = self.org.update(kind, rid, body)
        if error == "NOT_FOUND":
            return 404, self.refusal(404)
        if error:
            return 400, _error(error, "Unable to create/update fields.")
        return 204, None

    def _delete(self, version: str, kind: str, rid: str, body: Any) -> tuple[int, Any]:
        if not self.org.soft_delete(kind, rid):
            return 404, _error("ENTITY_IS_DELETED", "entity is deleted")
        return 204, None

    def _job_create(self, version: str, body: Any) -> tuple[int, Any]:
        kind, operation = body.get("object"), body.get("operation")
        if kind not in PREFIX or kind == "Job":
            return 400, _error("INVALIDENTITY", f"Entity '{kind}' is not supported")
        if operation not in ("delete", "hardDelete"):
            return 400, _error(
                "INVALIDJOB", f"operation {operation!r} not offered here"
            )
        return 200, {**self.org.job_create(kind, operation), "apiVersion": version}

    def _job_upload(self, version: str, jid: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, Raw) or not body.content_type.startswith("text/csv"):
            return 400, _error("INVALIDJOB", "job data must be text/csv")
        rows = list(csv.reader(io.StringIO(body.text)))
        if not rows or rows[0] != ["Id"]:
            return 400, _error("INVALIDJOB", "the CSV header must be Id")
        if not self.org.job_upload(jid, [row[0] for row in rows[1:] if row]):
            return 400, _error("INVALIDJOB", "the job is not open")
        return 201, None

    def _job_close(self, version: str, jid: str, body: Any) -> tuple[int, Any]:
        if body.get("state") != "UploadComplete":
            return 400, _error("INVALIDJOB", "state must be UploadComplete")
        if not self.org.job_close(jid):
            return 400, _error("INVALIDJOB", "the job is not open")
        return 200, self.org.job_info(jid)

    def _job_info(self, version: str, jid: str, body: Any) -> tuple[int, Any]:
        info = self.org.job_info(jid)
        return (404, self.refusal(404)) if info is None else (200, info)

    def _job_failures(self, version: str, jid: str, body: Any) -> tuple[int, Any]:
        failures = self.org.job_failures(jid)
        if failures is None:
            return 404, self.refusal(404)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["sf__Id", "sf__Error", "Id"])
        for rid, code in failures:
            writer.writerow([rid, f"{code}:record {rid} could not be deleted:--", rid])
        return 200, Raw(out.getvalue())


_start = starter(_Handler, Org.seeded, per_window=PER_DAY, window_seconds=DAY_SECONDS)


def start(
    account: Org | None = None, *, token: str, port: int = 0, **options: Any
) -> StandIn:
    """A stand-in whose external client app is CLIENT_ID with `token` as its
    secret: the client credentials flow at /services/oauth2/token, whose
    answers give instance_url (this stand-in) and no expires_in (tokens
    live as long as the org's session timeout, two hours by default)."""
    options.setdefault(
        "issuer",
        TokenIssuer(
            client_id=CLIENT_ID, lifetime=7200, instance_url="", expires_in=False
        ),
    )
    return _start(account, token=token, port=port, **options)
