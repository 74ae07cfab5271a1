"""The `idstore` command: serve, migrate, api-key, demo."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from idstore import __version__, logs, metrics, serving
from idstore.cli_database import (
    NoDatabase,
    add_database_options,
    opened,
    report_database_failure,
)
from idstore.cli_export_audit import add_export_audit_commands
from idstore.cli_import_totp import add_import_totp_commands
from idstore.cli_operations import (
    add_operation_commands,
    counted,
    ensure_data_dir,
    settings_from,
    whole_number,
)
from idstore.cli_transfer import add_transfer_commands
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import KeyRingMissing
from idstore.db.migrate import migrate
from idstore.error_reference import errors_markdown
from idstore.settings import Settings, reference_markdown
from idstore.startup import UnsafeStart, prepare

BOOTSTRAP_KEY_FILE = "bootstrap-api-key"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "run"):
        parser.print_help()
        return 2
    try:
        result: int = arguments.run(arguments)
    except (KeyRingMissing, NoDatabase) as missing:
        print(f"idstore: {missing}", file=sys.stderr)
        return 2
    except (DBAPIError, ConnectionError, TimeoutError) as failure:
        # Commands that do not name the failure themselves: one line, never a traceback.
        shown = _shown(settings_from(arguments))
        return report_database_failure(failure, f"cannot use the database at {shown}", status=2)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idstore",
        description="idstore: users and authenticators; every authentication decided and audited.",
    )
    parser.add_argument("--version", action="version", version=f"idstore {__version__}")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser(
        "serve",
        help="migrate the database, create the first API key if none exists, and serve HTTP",
        description="Serve the API. Every option has an IDSTORE_* environment variable twin.",
    )
    serve.add_argument("--host", help="listen address (IDSTORE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=whole_number, help="listen port (IDSTORE_PORT, default 8080)")
    serve.add_argument(
        "--workers", type=whole_number, help="server processes (IDSTORE_WORKERS, default 1)"
    )
    serve.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    serve.add_argument("--data-dir", type=Path, help="data directory (IDSTORE_DATA_DIR)")
    serve.set_defaults(run=_serve)

    migrate_command = commands.add_parser(
        "migrate",
        help="apply the database migrations that are not applied yet, then exit",
        description="Bring the database schema up to date, creating the SQLite file (and the "
        "data directory) when there is none; `serve` does the same when it starts. Waits for "
        "another process that is migrating the same database.",
    )
    add_database_options(migrate_command)
    migrate_command.set_defaults(run=_migrate)

    add_operation_commands(commands)
    add_import_totp_commands(commands)
    add_export_audit_commands(commands)
    add_transfer_commands(commands)

    permissions = commands.add_parser(
        "permissions-reference", help="print the permission every route needs, as Markdown"
    )
    permissions.set_defaults(run=lambda _arguments: _print(_permissions_reference()))

    reference = commands.add_parser(
        "config-reference", help="print the reference of every IDSTORE_* setting, as Markdown"
    )
    reference.set_defaults(run=lambda _arguments: _print(reference_markdown()))

    error_codes = commands.add_parser(
        "errors-reference", help="print the table of every error code the API answers, as Markdown"
    )
    error_codes.set_defaults(run=lambda _arguments: _print(errors_markdown()))

    demo = commands.add_parser(
        "demo", help="enrol an authenticator app against a running service, step by step"
    )
    demo.add_argument(
        "--url",
        default=None,
        help="service URL (default http://IDSTORE_HOST:IDSTORE_PORT, "
        "i.e. http://127.0.0.1:8080 unless they are set)",
    )
    demo.add_argument(
        "--api-key",
        default=None,
        help="API key (default: IDSTORE_BOOTSTRAP_API_KEY, else <data dir>/bootstrap-api-key)",
    )
    demo.add_argument("--store", default="demo", help="store to enrol in (default demo)")
    demo.set_defaults(run=_demo)
    return parser


def _permissions_reference() -> str:
    from idstore.app import create_app, permissions_markdown  # the whole app: only when asked

    keys = KeyRing((("docs", bytes(32)),))  # the routes need a ring to be built, not to serve
    settings = Settings(database_url="sqlite+aiosqlite://")  # nothing is read or written
    return permissions_markdown(create_app(settings, keyring=keys))


def _print(text: str) -> int:
    print(text, end="")
    return 0


def _migrate(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    applied = asyncio.run(_migrate_database(settings))
    if applied:
        migrations = counted(len(applied), "migration")
        print(f"idstore: applied {migrations}; the database schema is up to date")
    else:
        print("idstore: the database schema is up to date; nothing to apply")
    return 0


async def _migrate_database(settings: Settings) -> list[str]:
    if not settings.database_url:
        ensure_data_dir(settings)
    async with opened(settings) as database:
        return await migrate(
            database,
            on_wait=lambda holder: _print_to_stderr(f"idstore: {holder}; waiting for it"),
            on_apply=lambda revision: _print_to_stderr(f"idstore: applying migration {revision}"),
        )


def _serve(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    logs.configure(settings.log_level)
    if settings.port and serving.address_in_use(settings.host, settings.port):
        print(
            f"idstore: refusing to start: {settings.host}:{settings.port} is in use (another "
            "server?): stop it, or serve on another port (IDSTORE_PORT=8081, or --port 8081)",
            file=sys.stderr,
        )
        return 1
    ensure_data_dir(settings)
    try:
        prepared = asyncio.run(prepare(settings))
    except UnsafeStart as refusal:
        for problem in refusal.problems:
            print(f"idstore: refusing to start: {problem}", file=sys.stderr)
        return 1
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError):
        print(
            f"idstore: {_shown(settings)!r} is not a database idstore supports: use "
            "sqlite:///path/to/file.db or postgresql://user@host:port/database",
            file=sys.stderr,
        )
        return 1
    except (DBAPIError, OSError) as failure:
        shown = _shown(settings)
        return report_database_failure(failure, f"cannot reach the database at {shown}", status=2)
    if prepared.bootstrap_api_key is not None:
        supplied = bool(settings.bootstrap_api_key)
        _announce_bootstrap_key(settings, prepared.bootstrap_api_key, supplied=supplied)

    # Worker processes read their settings from the environment: pass the flags on that way.
    for name in ("host", "port", "workers", "database_url", "data_dir"):
        value = getattr(arguments, name, None)
        if value is not None:
            os.environ[f"IDSTORE_{name.upper()}"] = str(value)
    if settings.workers > 1:
        _share_metrics(settings)
    print(f"idstore: serving on http://{settings.host}:{settings.port} (docs at /docs)", flush=True)
    serving.replace_this_process()
    return 0  # not reached


def _share_metrics(settings: Settings) -> None:
    """Give the worker processes one directory for their metrics, emptied of a former run's
    (whose counts would otherwise be added in), so any worker's /metrics counts them all."""
    if os.environ.get(metrics.MULTIPROCESS_DIRECTORY):
        return
    directory = settings.data_dir / "metrics"
    directory.mkdir(mode=0o700, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[metrics.MULTIPROCESS_DIRECTORY] = str(directory.resolve())


def _shown(settings: Settings) -> str:
    """The database URL with any password hidden."""
    try:
        return make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unreadable URL)"


def _announce_bootstrap_key(settings: Settings, key: str, *, supplied: bool) -> None:
    if supplied:
        print(
            "idstore: created the first API key (tenant 'default') from IDSTORE_BOOTSTRAP_API_KEY"
        )
        return
    path = settings.data_dir / BOOTSTRAP_KEY_FILE
    kept = f"kept in {path}, mode 0600"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # That file holds the first key of another database (the SQLite one, say): keep it.
        kept = f"NOT written to {path}, which holds the key of another database: copy it now"
    else:
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(key + "\n")
    print(
        "idstore: created the first API key for tenant 'default', with every permission.\n"
        f"It is shown this once ({kept}):\n\n    {key}\n\n"
        "Exchange it for a bearer token:\n"
        f"    curl -s -X POST -H 'X-Api-Key: {key}' "
        f"http://{settings.host}:{settings.port}/api/arthr/apiKeys/issue\n",
        flush=True,
    )


def _demo(arguments: argparse.Namespace) -> int:
    from idstore.demo import Console, run_demo

    settings = Settings.from_env()
    url = arguments.url or f"http://{settings.host}:{settings.port}"
    console = Console(ask=input, say=print, warn=_print_to_stderr)
    return run_demo(
        url=url,
        api_key=arguments.api_key or settings.bootstrap_api_key or None,
        data_dir=settings.data_dir,
        console=console,
        store=arguments.store,
    )


def _print_to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
