"""Re-encrypt every encrypted field under the newest FIELD_ENCRYPTION_KEYS key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (old keys after it),
deploy, run this command, then drop the old keys. It walks every model,
historical copies included, since django-simple-history keeps old versions of
encrypted rows that would otherwise stay under the retired key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from privacydesk import crypto
from privacydesk.fields import EncryptedJSONField, EncryptedTextField

ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)


@dataclass
class ColumnReport:
    label: str
    scanned: int = 0
    rotated: int = 0
    current: int = 0
    # Primary keys only: a value that cannot be decrypted is never printed.
    undecryptable: list[Any] = field(default_factory=list)


def encrypted_columns() -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Every concrete encrypted field of every installed model."""
    found: list[tuple[type[models.Model], models.Field[Any, Any]]] = []
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, ENCRYPTED_FIELDS):
                found.append((model, model_field))
    return found


def _under_newest_key(token: str, newest: Fernet) -> bool:
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate_column(
    model: type[models.Model],
    model_field: models.Field[Any, Any],
    *,
    batch_size: int,
    dry_run: bool,
    on_batch: Callable[[ColumnReport], None] | None = None,
) -> ColumnReport:
    """Rotate one column in primary-key batches, each in a short transaction;
    `on_batch` sees the running report after every batch (progress output).

    Raw SQL on purpose: the ORM would decrypt on read, so it could not tell
    which key a stored token uses, and a JSON value would be re-serialised.
    """
    opts = model._meta
    report = ColumnReport(label=f"{opts.label}.{model_field.name}")
    quote = connection.ops.quote_name
    pk_column, value_column = opts.pk.column, model_field.column
    # Concrete fields, the only ones encrypted_columns() returns, have a column.
    assert pk_column is not None
    assert value_column is not None
    table, pk, column = quote(opts.db_table), quote(pk_column), quote(value_column)
    newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    last_pk: Any = None
    while True:
        where = f"WHERE {pk} > %s " if last_pk is not None else ""
        params = [last_pk] if last_pk is not None else []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} {where}ORDER BY {pk} LIMIT %s",
                [*params, batch_size],
            )
            rows = cursor.fetchall()
        if not rows:
            return report
        last_pk = rows[-1][0]
        with transaction.atomic():
            for row_pk, token in rows:
                report.scanned += 1
                if not token:
                    continue
                if _under_newest_key(token, newest):
                    report.current += 1
                    continue
                try:
                    fresh = crypto.rotate(token)
                except InvalidToken:
                    report.undecryptable.append(row_pk)
                    continue
                report.rotated += 1
                if dry_run:
                    continue
                # Compare-and-swap: a row rewritten meanwhile by the app is
                # already under the newest key and must not be overwritten.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s "
                        f"WHERE {pk} = %s AND {column} = %s",
                        [fresh, row_pk, token],
                    )
        if on_batch is not None:
            on_batch(report)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (history tables included) under the "
        "first key of FIELD_ENCRYPTION_KEYS. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would change, write nothing",
        )

    def _progress(self, report: ColumnReport) -> None:
        # Small tables finish in one batch; the summary line is enough there.
        if report.scanned >= self.batch_size:
            self.stdout.write(f"    {report.label}: {report.scanned} row(s) scanned")

    def handle(self, *args: object, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        self.batch_size = batch_size
        dry_run: bool = options["dry_run"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        keys = settings.FIELD_ENCRYPTION_KEYS
        self.stdout.write(
            f"{len(keys)} key(s) configured; encrypting under the first"
            + (" (dry run: nothing is written)" if dry_run else "")
        )
        total_rotated = 0
        broken: list[str] = []
        for model, model_field in encrypted_columns():
            report = rotate_column(
                model,
                model_field,
                batch_size=batch_size,
                dry_run=dry_run,
                on_batch=self._progress,
            )
            total_rotated += report.rotated
            verb = "to re-encrypt" if dry_run else "re-encrypted"
            self.stdout.write(
                f"  {report.label}: {report.scanned} row(s), {report.rotated} {verb}, "
                f"{report.current} already current"
            )
            if report.undecryptable:
                shown = ", ".join(str(pk) for pk in report.undecryptable[:10])
                broken.append(f"{report.label} (pk {shown})")
        done = "Would re-encrypt" if dry_run else "Re-encrypted"
        self.stdout.write(f"{done} {total_rotated} value(s).")
        if broken:
            raise CommandError(
                "some values decrypt with none of the configured keys: "
                + "; ".join(broken)
            )
