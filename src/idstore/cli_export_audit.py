"""`idstore export-audit`: a store's authentication audit for a time range, as a file."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import DBAPIError

from idstore.cli_database import (
    add_database_options,
    opened,
    report_database_failure,
    require_database,
)
from idstore.cli_operations import settings_from
from idstore.clock import SystemClock
from idstore.private_files import private_text_file
from idstore.services.errors import StoreNotFound
from idstore.settings import Settings
from idstore.transfer.audit_export import (
    BATCH_SIZE,
    AuditSource,
    TimeWindow,
    export_audit,
    resolve_store_id,
)
from idstore.transfer.audit_formats import FORMATS, writer_for


def add_export_audit_commands(commands: Any) -> None:
    """Add `export-audit` to the command parser."""
    export = commands.add_parser(
        "export-audit",
        help="write a store's authentication audit for a time range as JSON lines or CSV",
        description="Write the authentication audit records of a store, oldest first, as JSON "
        "lines (each the API's audit record) or CSV. Records are read and written in batches, "
        "so memory stays the same whatever the size of the audit. Progress goes to standard "
        "error. The range is half-open: --from is included, --to is not.",
    )
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--store", help="the store's name")
    target.add_argument("--store-id", help="the store's id (for a store since deleted)")
    export.add_argument("--tenant", default="default", help="the store's tenant (default: default)")
    export.add_argument(
        "--from",
        dest="start",
        type=instant,
        help="first instant included: ISO-8601 with a zone (2026-01-01T00:00:00Z) or a date "
        "(midnight UTC); default: the oldest record",
    )
    export.add_argument(
        "--to",
        dest="end",
        type=instant,
        help="first instant excluded, in the same forms; default: when the export starts",
    )
    export.add_argument("--format", choices=FORMATS, default="jsonl", help="default: jsonl")
    export.add_argument(
        "--out",
        type=Path,
        help="file to write (mode 0600; written under a new hidden name beside it, renamed "
        "when complete); "
        "default: standard output",
    )
    export.add_argument(
        "--batch-size",
        type=_batch_size,
        default=BATCH_SIZE,
        help=f"records read per query (default {BATCH_SIZE})",
    )
    add_database_options(export)
    export.set_defaults(run=_export_audit)


def instant(text: str) -> datetime:
    """An instant in UTC from ISO-8601 text: a date is its midnight in UTC; a time needs a zone."""
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date or time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (Z or +hh:mm)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} lies outside the years 1 to 9999") from None


def _batch_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError("a batch size is a whole number from 1 to 100000")
    return int(text)


def _export_audit(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    window = TimeWindow(arguments.start, arguments.end or SystemClock().now())
    if window.start is not None and window.start >= window.end:
        end = "--to" if arguments.end else "now (the default --to)"
        print(f"idstore: the range is empty: --from must come before {end}", file=sys.stderr)
        return 2
    source = AuditSource(arguments.tenant, arguments.store, arguments.store_id)
    require_database(settings)
    try:
        written = asyncio.run(_export(settings, source, window, arguments))
    except StoreNotFound:
        store = repr(arguments.store) if arguments.store else f"with id {arguments.store_id!r}"
        print(f"idstore: no store {store} in tenant {arguments.tenant!r}", file=sys.stderr)
        return 2
    except DBAPIError as failure:
        # The driver's message may quote the statement: only a refused connection's is shown.
        return report_database_failure(failure, "the export failed")
    except BrokenPipeError:
        # The reader stopped reading (`| head`): no complaint, as other tools make none; stdout
        # goes nowhere, so that flushing it at exit does not fail again. Not complete: status 1.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as failure:
        print(f"idstore: the export failed: {failure}", file=sys.stderr)
        return 1
    where = arguments.out or "standard output"
    _say(f"{written} audit records written to {where}")
    return 0


async def _export(
    settings: Settings, source: AuditSource, window: TimeWindow, arguments: argparse.Namespace
) -> int:
    async with opened(settings) as database:
        store_id = await resolve_store_id(database, source)
        with _output(arguments.out) as out:
            return await export_audit(
                database,
                writer_for(arguments.format, out),
                tenant_id=source.tenant_id,
                store_id=store_id,
                window=window,
                batch_size=arguments.batch_size,
                progress=lambda written: _say(f"{written} audit records written"),
            )


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or a file that appears under its name only once complete."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    # Audit records say who authenticated when: readable by this user alone, like the database.
    with private_text_file(path) as out:
        yield out


def _say(line: str) -> None:
    print(f"idstore: {line}", file=sys.stderr, flush=True)
