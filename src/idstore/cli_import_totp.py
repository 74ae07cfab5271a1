"""`idstore import-totp`: move TOTPs in from a file of otpauth URIs, a CSV, privacyIDEA or PSKC."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from idstore.cli_database import (
    add_database_options,
    opened,
    report_database_failure,
    require_database,
)
from idstore.cli_operations import settings_from
from idstore.clock import SystemClock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import load_keyring
from idstore.db.migrate import migrate
from idstore.services.context import Context
from idstore.services.errors import IdstoreError
from idstore.settings import Settings
from idstore.startup import UnsafeStart, refuse_a_foreign_key_ring
from idstore.transfer.pskc import parse_key
from idstore.transfer.totp_import import ImportOptions, ImportReport, import_totps
from idstore.transfer.totp_records import MAX_EXTERNAL_ID_LENGTH, Format

CALLER_ID = "cli:import-totp"
# Large files report their progress on stderr every this many TOTPs.
PROGRESS_EVERY = 1000


def add_import_totp_commands(commands: Any) -> None:
    """Add `import-totp` to the command parser."""
    command = commands.add_parser(
        "import-totp",
        help="import TOTPs from otpauth URIs, a CSV, a privacyIDEA export or PSKC as ACTIVE TOTPs",
        description="Create an ACTIVE TOTP for each line of FILE, for the user its external id "
        "names (created when the store has none). All or nothing unless --continue-on-error; "
        "exits 1 when any line was refused, listing each with its line and reason.",
    )
    command.add_argument("file", type=Path, metavar="FILE", help="the file to import")
    command.add_argument("--store", required=True, help="the store to import into")
    command.add_argument("--tenant", default="default", help="the store's tenant (default)")
    command.add_argument(
        "--policy", help="the TOTP policy (default: 'default', else the store's only policy)"
    )
    command.add_argument(
        "--format",
        choices=[str(kind) for kind in Format],
        help="the file's format (default: recognised from its content)",
    )
    command.add_argument(
        "--continue-on-error",
        action="store_true",
        help="import the good lines even when others are refused",
    )
    command.add_argument("--dry-run", action="store_true", help="check every line, write nothing")
    command.add_argument(
        "--replace", action="store_true", help="replace a user's TOTP for the policy"
    )
    pskc_key = command.add_mutually_exclusive_group()
    pskc_key.add_argument(
        "--pskc-key", help="the pre-shared AES-128 key of an encrypted PSKC file, in hex"
    )
    pskc_key.add_argument(
        "--pskc-key-file",
        type=Path,
        help="a file holding that key in hex (kept out of the process list, unlike --pskc-key)",
    )
    add_database_options(command)
    command.set_defaults(run=_import_totp)


def _import_totp(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    # The key ring, then the database, then the file: a refusal creates nothing.
    keyring = load_keyring(settings)  # raises KeyRingMissing (exit 2)
    require_database(settings)  # raises NoDatabase (exit 2): a store must exist to import into
    try:
        text = arguments.file.read_text(encoding="utf-8")
        pskc_key = _pskc_key(arguments)
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        print(f"idstore: cannot read {arguments.file}: {_why(problem)}", file=sys.stderr)
        return 2
    options = ImportOptions(
        policy_name=arguments.policy,
        file_format=Format(arguments.format) if arguments.format else None,
        continue_on_error=arguments.continue_on_error,
        dry_run=arguments.dry_run,
        replace=arguments.replace,
        pskc_key=pskc_key,
    )
    try:
        report = asyncio.run(_run(settings, keyring, arguments, text, options))
    except IdstoreError as refused:
        print(f"idstore: {refused.code}: {refused.message}", file=sys.stderr)
        return 2
    except UnsafeStart as refused:
        print(f"idstore: nothing imported: {refused}", file=sys.stderr)
        return 2
    except Unreachable as unreachable:
        return report_database_failure(unreachable.failure, "cannot reach the database", status=2)
    except (DBAPIError, OSError) as failure:
        # Reached, then it failed (the transaction undoes the whole run).
        return report_database_failure(failure, "nothing imported: the database failed", status=1)
    _print_report(report, dry_run=options.dry_run)
    return 1 if report.refusals else 0


class Unreachable(Exception):
    """The database could not be opened and migrated: nothing was read or written."""

    def __init__(self, failure: DBAPIError | OSError) -> None:
        super().__init__(type(failure).__name__)
        self.failure = failure


def _pskc_key(arguments: argparse.Namespace) -> bytes | None:
    if arguments.pskc_key_file is not None:
        return parse_key(arguments.pskc_key_file.read_text(encoding="ascii"))
    return parse_key(arguments.pskc_key) if arguments.pskc_key else None


def _why(problem: Exception) -> str:
    if isinstance(problem, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(problem, OSError):
        return problem.strerror or type(problem).__name__
    return str(problem)


async def _run(
    settings: Settings,
    keyring: KeyRing,
    arguments: argparse.Namespace,
    text: str,
    options: ImportOptions,
) -> ImportReport:
    async with opened(settings) as database:
        try:
            await migrate(database)
        except (DBAPIError, OSError) as failure:
            raise Unreachable(failure) from failure
        # Secrets sealed under a key ring the servers do not hold could never be opened.
        await refuse_a_foreign_key_ring(database, keyring)
        ctx = Context(
            tenant_id=arguments.tenant,
            caller_id=CALLER_ID,
            request_id=f"import-totp-{uuid.uuid4()}",
            now=SystemClock().now(),
        )
        return await import_totps(
            database,
            keyring,
            ctx,
            store_name=arguments.store,
            text=text,
            options=options,
            progress=_progress,
        )


def _progress(stage: str, done: int, total: int) -> None:
    if total >= PROGRESS_EVERY and (done % PROGRESS_EVERY == 0 or done == total):
        print(f"idstore: {done} of {total} TOTPs {stage}", file=sys.stderr, flush=True)


def _print_report(report: ImportReport, *, dry_run: bool) -> None:
    for refusal in report.refusals:
        print(f"refused: {refusal.where}{_whose(refusal.external_id)}: {refusal.reason}")
    counts = (
        f"{report.created_users} users and {report.created_totps} TOTPs "
        f"({report.replaced_totps} replacing one) created, {len(report.refusals)} lines refused"
    )
    if report.committed:
        outcome = f"{counts}; imported"
    elif dry_run:
        outcome = f"{counts}; dry run, nothing written (the counts say what a run would create)"
    else:
        # Nothing was created: counting what would have been reads as if it were.
        outcome = (
            f"nothing imported, {len(report.refusals)} lines refused "
            "(all or nothing; --continue-on-error imports the rest)"
        )
    print(f"idstore: {report.file_format} file, policy {report.policy_name!r}: {outcome}")


def _whose(external_id: str | None) -> str:
    """The external id when it can be one (at most 255 characters, none a control character),
    else "(unreadable)": a crafted file must not forge report lines, and a quoted CSV field
    spanning lines would otherwise carry other lines, their secrets too, into the report."""
    if not external_id:
        return ""
    if len(external_id) <= MAX_EXTERNAL_ID_LENGTH and external_id.isprintable():
        return f" ({external_id})"
    return " (unreadable)"
