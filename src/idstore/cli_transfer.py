"""Moving on: `idstore export-key`, `idstore export` and `idstore import` (docs/moving-on.md)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy.exc import DBAPIError

from idstore.api.schemas.common import NAME_PATTERN
from idstore.cli_database import (
    add_database_options,
    opened,
    report_database_failure,
    require_database,
)
from idstore.cli_operations import ensure_data_dir, settings_from, show_help_of
from idstore.clock import SystemClock
from idstore.crypto.keysource import load_keyring
from idstore.private_files import private_binary_file
from idstore.services.errors import StoreNotFound
from idstore.settings import Settings
from idstore.startup import UnsafeStart, refuse_a_foreign_key_ring
from idstore.transfer.export_format import SecretUnreadable
from idstore.transfer.export_writer import ExportSummary, export_store
from idstore.transfer.import_file import ImportRefused
from idstore.transfer.import_reader import ImportOptions, ImportSummary, import_store
from idstore.transfer.recipient import Identity, RecipientKeyError, parse_recipient

USAGE_ERROR = 2


def add_transfer_commands(commands: Any) -> None:
    """Add `export-key`, `export` and `import` to the command parser."""
    export_key = commands.add_parser(
        "export-key", help="make the key pair an export is sealed to (its recipient)"
    )
    export_key.set_defaults(run=show_help_of(export_key))
    key_commands = export_key.add_subparsers(title="export-key commands")
    create = key_commands.add_parser(
        "create",
        help="write a new private key file (mode 0600) and print its public key",
        description="Run this where the store is going: give the printed public key to "
        "whoever exports, and keep the private key file for `idstore import --identity`.",
    )
    create.add_argument("--out", type=Path, required=True, help="the private key file to write")
    create.set_defaults(run=_create_export_key)

    export = commands.add_parser(
        "export",
        help="write a store's configuration, users and authenticators to a file, sealed to a key",
        description="Every secret in the file is sealed to --recipient; progress goes to stderr.",
    )
    export.add_argument("--store", required=True, help="the store's name")
    export.add_argument("--tenant", default="default", help="the store's tenant (default: default)")
    export.add_argument(
        "--recipient", required=True, help="the public key, idstore-recipient-1:… (export-key)"
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write (must be new)")
    add_database_options(export)
    export.set_defaults(run=_export)

    import_command = commands.add_parser(
        "import",
        help="read a file `idstore export` wrote into this database, all or nothing",
        description="Refuses a wrong key (exit 3), an altered file (1), an unknown format or "
        "version (4) and a store the database holds already (5), writing nothing.",
    )
    import_command.add_argument("file", type=Path, help="the export file")
    import_command.add_argument(
        "--identity", type=Path, required=True, help="the private key file (export-key create)"
    )
    import_command.add_argument("--tenant", help="import into this tenant (default: the file's)")
    import_command.add_argument(
        "--store-name", type=_store_name, help="import under this name (default: the file's)"
    )
    import_command.add_argument(
        "--new-ids",
        action="store_true",
        help="give the store, its users and authenticators new ids (a copy beside the original)",
    )
    add_database_options(import_command)
    import_command.set_defaults(run=_import)


def _store_name(text: str) -> str:
    if not re.fullmatch(NAME_PATTERN, text):
        raise argparse.ArgumentTypeError("a store name is 1 to 64 of A-Z a-z 0-9 . _ -")
    return text


def _fail(message: str, status: int = USAGE_ERROR) -> int:
    print(f"idstore: {message}", file=sys.stderr)
    return status


def _progress(verb: str) -> Callable[..., None]:
    def report(done: int, total: int | None = None) -> None:
        of = f" of {total}" if total is not None else ""
        print(f"idstore: {verb} {done}{of} users", file=sys.stderr, flush=True)

    return report


def _create_export_key(arguments: argparse.Namespace) -> int:
    identity = Identity.generate()
    try:
        identity.write_new(arguments.out)
    except FileExistsError:
        return _fail(f"{arguments.out} exists already: choose another file")
    except OSError as failure:
        return _fail(f"cannot write {arguments.out}: {failure.strerror}")
    print(identity.recipient)
    print(f"idstore: private key written to {arguments.out} (mode 0600)", file=sys.stderr)
    return 0


def _export(arguments: argparse.Namespace) -> int:
    try:
        recipient = parse_recipient(arguments.recipient)
    except RecipientKeyError as refusal:
        return _fail(f"--recipient: {refusal}")
    if arguments.out.exists():
        return _fail(f"{arguments.out} exists already: choose another file")
    settings = settings_from(arguments)
    require_database(settings)  # before any file: a refusal leaves nothing behind
    try:
        # Renamed to --out only when whole: a file under the name given is complete.
        with private_binary_file(arguments.out, replace=False) as out:
            summary = asyncio.run(_write_export(settings, arguments, recipient, out))
    except FileExistsError:
        return _fail(f"nothing exported: {arguments.out} appeared meanwhile: choose another file")
    except StoreNotFound:
        return _fail(f"no store {arguments.store!r} in tenant {arguments.tenant!r}")
    except SecretUnreadable as refusal:
        return _fail(f"nothing exported: {refusal}", 1)
    except UnsafeStart as refusal:
        return _fail(f"nothing exported: {refusal}")
    except OSError as failure:
        return _fail(f"nothing exported: cannot write {arguments.out}: {failure.strerror}", 1)
    except DBAPIError as failure:
        return report_database_failure(failure, "nothing exported: the database failed")
    print(
        f"idstore: exported {summary.users} users and {summary.authenticators} authenticators "
        f"of store {arguments.store!r} to {arguments.out}\nsha256 {summary.sha256}"
    )
    return 0


async def _write_export(
    settings: Settings, arguments: argparse.Namespace, recipient: X25519PublicKey, out: BinaryIO
) -> ExportSummary:
    keyring = load_keyring(settings)
    async with opened(settings) as database:
        await refuse_a_foreign_key_ring(database, keyring)
        return await export_store(
            database,
            keyring,
            tenant_id=arguments.tenant,
            store_name=arguments.store,
            recipient=recipient,
            out=out,
            now=SystemClock().now(),
            progress=_progress("exported"),
        )


def _import(arguments: argparse.Namespace) -> int:
    try:
        identity = Identity.read(arguments.identity)
    except RecipientKeyError as refusal:
        return _fail(f"--identity {arguments.identity}: {refusal}")
    except OSError as failure:
        return _fail(f"cannot read {arguments.identity}: {failure.strerror}")
    settings = settings_from(arguments)
    options = ImportOptions(arguments.tenant, arguments.store_name, arguments.new_ids)
    try:
        with arguments.file.open("rb") as source:
            summary = asyncio.run(_read_import(settings, identity, source, options))
    except OSError as failure:
        return _fail(f"cannot read {arguments.file}: {failure.strerror}")
    except DBAPIError as failure:
        return report_database_failure(failure, "nothing imported: the database failed")
    except ImportRefused as refusal:
        return _fail(f"nothing imported: {refusal}", refusal.exit_status)
    except UnsafeStart as refusal:
        return _fail(f"nothing imported: {refusal}")
    print(
        f"idstore: imported store {summary.store_name!r} (id {summary.store_id}) into tenant "
        f"{summary.tenant_id!r}: {summary.users} users, {summary.authenticators} "
        f"authenticators\nsha256 {summary.sha256}"
    )
    return 0


async def _read_import(
    settings: Settings, identity: Identity, source: BinaryIO, options: ImportOptions
) -> ImportSummary:
    keyring = load_keyring(settings)  # before touching the database: raises KeyRingMissing
    if not settings.database_url:
        ensure_data_dir(settings)
    async with opened(settings, migrated=True) as database:
        await refuse_a_foreign_key_ring(database, keyring)
        return await import_store(
            database, keyring, identity, source, options=options, progress=_progress("read")
        )
