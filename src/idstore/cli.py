"""The `idstore` command: serve, migrate, api-key, demo."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from idstore import __version__, logs
from idstore.api.schemas.api_keys import PERMISSION_PATTERN
from idstore.app import create_app, key_source, load_keyring, permissions_markdown
from idstore.clock import SystemClock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import KeyRingMissing
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.keyrotation import (
    STEP_WAIT_SECONDS,
    RotationRunning,
    add_key_to_file,
    reseal,
    rotation_lock,
)
from idstore.services import api_keys
from idstore.services.audit_verification import ChainReport, verify_store
from idstore.services.errors import StoreNotFound
from idstore.services.rotation import ResealReport
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
    except KeyRingMissing as missing:
        print(f"idstore: {missing}", file=sys.stderr)
        return 2
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
    serve.add_argument("--port", type=int, help="listen port (IDSTORE_PORT, default 8080)")
    serve.add_argument("--workers", type=int, help="server processes (IDSTORE_WORKERS, default 1)")
    serve.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    serve.add_argument("--data-dir", type=Path, help="data directory (IDSTORE_DATA_DIR)")
    serve.set_defaults(run=_serve)

    migrate_command = commands.add_parser(
        "migrate", help="apply the database migrations that are not applied yet, then exit"
    )
    migrate_command.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    migrate_command.set_defaults(run=_migrate)

    api_key = commands.add_parser("api-key", help="manage API keys from the server's side")
    api_key_commands = api_key.add_subparsers(title="api-key commands")
    create_key = api_key_commands.add_parser(
        "create",
        help="create an API key for a tenant and print it (shown this once)",
        description="Create an API key directly in the database, e.g. the first key of a tenant.",
    )
    create_key.add_argument("--tenant", required=True, help="the tenant the key belongs to")
    create_key.add_argument(
        "--permission",
        action="append",
        required=True,
        help="TNT#{tenant}#IdentityStore:{operation} or …:* (repeat for several)",
    )
    create_key.add_argument("--name", help="a label to recognise the key by")
    create_key.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    create_key.set_defaults(run=_create_api_key)

    rotate = commands.add_parser(
        "rotate-keys",
        help="add a new key to the key ring and re-seal every secret under it, while serving",
        description="With a key file: add a new key, make it the sealing key, re-seal every "
        "stored secret. With IDSTORE_SECRET_KEYS: re-seal under the first key listed (put the "
        "new key first and restart the servers before running this).",
    )
    rotate.add_argument(
        "--wait",
        type=float,
        default=STEP_WAIT_SECONDS,
        help="seconds to let every server read the key file between steps "
        f"(default {STEP_WAIT_SECONDS:.0f})",
    )
    rotate.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    rotate.set_defaults(run=_rotate_keys)

    verify = commands.add_parser(
        "verify-audit",
        help="check that no authentication audit record of a store was altered, removed or added",
        description="Walk every user's audit chain in the store and name the first broken link "
        "of each; exit 1 when one is broken.",
    )
    verify.add_argument("--store", required=True, help="the store's name")
    verify.add_argument("--tenant", default="default", help="the store's tenant (default: default)")
    verify.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    verify.set_defaults(run=_verify_audit)

    permissions = commands.add_parser(
        "permissions-reference", help="print the permission every route needs, as Markdown"
    )
    permissions.set_defaults(run=lambda _arguments: _print(_permissions_reference()))

    reference = commands.add_parser(
        "config-reference", help="print the reference of every IDSTORE_* setting, as Markdown"
    )
    reference.set_defaults(run=lambda _arguments: _print(reference_markdown()))

    demo = commands.add_parser(
        "demo", help="enrol an authenticator app against a running service, step by step"
    )
    demo.add_argument("--url", default=None, help="service URL (default http://127.0.0.1:8080)")
    demo.add_argument(
        "--api-key",
        default=None,
        help="API key (default: IDSTORE_BOOTSTRAP_API_KEY, else <data dir>/bootstrap-api-key)",
    )
    demo.add_argument("--store", default="demo", help="store to enrol in (default demo)")
    demo.set_defaults(run=_demo)
    return parser


def _verify_audit(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    try:
        report = asyncio.run(_walk_chains(settings, arguments.tenant, arguments.store))
    except StoreNotFound:
        print(
            f"idstore: no store {arguments.store!r} in tenant {arguments.tenant!r}", file=sys.stderr
        )
        return 2
    for broken in report.breaks:
        print(f"user {broken.user_id}: record {broken.record_id}: {broken.problem}")
    print(
        f"idstore: {report.records} records of {report.users} users checked, "
        f"{report.unchained} written before chaining; {len(report.breaks)} broken chains"
    )
    return 1 if report.breaks else 0


async def _walk_chains(settings: Settings, tenant: str, store: str) -> ChainReport:
    database = Database(settings.resolved_database_url)
    try:
        return await verify_store(
            database,
            load_keyring(settings),
            tenant_id=tenant,
            store_name=store,
            progress=lambda done: print(f"idstore: {done} records checked", flush=True),
        )
    finally:
        await database.dispose()


def _permissions_reference() -> str:
    keys = KeyRing((("docs", bytes(32)),))  # the routes need a ring to be built, not to serve
    settings = Settings(database_url="sqlite+aiosqlite://")  # nothing is read or written
    return permissions_markdown(create_app(settings, keyring=keys))


def _print(text: str) -> int:
    print(text, end="")
    return 0


def _ensure_data_dir(settings: Settings) -> None:
    # Only this service's user may look inside: the database and the key ring live here.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _settings(arguments: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(arguments, name, None)
        for name in ("host", "port", "workers", "database_url", "data_dir")
    }
    return Settings.from_env(**overrides)


def _migrate(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    asyncio.run(_migrate_database(settings))
    print("idstore: the database schema is up to date")
    return 0


async def _migrate_database(settings: Settings) -> None:
    if not settings.database_url:
        _ensure_data_dir(settings)
    database = Database(settings.resolved_database_url)
    try:
        await migrate(database)
    finally:
        await database.dispose()


def _create_api_key(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    pattern = re.compile(PERMISSION_PATTERN)
    prefix = f"TNT#{arguments.tenant}#IdentityStore:"
    for granted in arguments.permission:
        if not pattern.fullmatch(granted) or not granted.startswith(prefix):
            print(
                f"idstore: {granted!r} is not a permission of tenant {arguments.tenant!r}",
                file=sys.stderr,
            )
            return 2
    key = asyncio.run(_store_api_key(settings, arguments))
    print(key)
    return 0


async def _store_api_key(settings: Settings, arguments: argparse.Namespace) -> str:
    _ensure_data_dir(settings)
    database = Database(settings.resolved_database_url)
    try:
        await migrate(database)
        async with database.transaction() as conn:
            _, key = await api_keys.create_api_key(
                conn,
                load_keyring(settings),
                tenant_id=arguments.tenant,
                permissions=tuple(arguments.permission),
                now=SystemClock().now(),
                name=arguments.name,
            )
        return key
    finally:
        await database.dispose()


def _rotate_keys(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)

    def say(line: str) -> None:
        print(f"idstore: {line}", flush=True)

    if settings.secret_keys:
        ring = key_source(settings).current()
        say(f"keys come from IDSTORE_SECRET_KEYS; re-sealing under {ring.current_key_id}")
        report = asyncio.run(_reseal(settings, ring, say))
    else:
        path = settings.resolved_key_file
        key_source(settings)  # raises KeyRingMissing when the file is not there
        try:
            with rotation_lock(path):
                ring = add_key_to_file(path, wait_seconds=arguments.wait, say=say)
                report = asyncio.run(_reseal(settings, ring, say))
        except RotationRunning as running:
            print(f"idstore: {running}; wait for it to finish", file=sys.stderr)
            return 2
    older = [key_id for key_id, _ in ring.keys[1:]]
    if older:
        say(
            f"older keys stay in the ring: {', '.join(older)}. API keys still hashed under "
            f"them: {report.api_keys_on_older_keys} (they move when next used)."
        )
    return 1 if report.unopenable else 0


async def _reseal(settings: Settings, ring: KeyRing, say: Callable[[str], None]) -> ResealReport:
    database = Database(settings.resolved_database_url)
    try:
        return await reseal(database, ring, say=say)
    finally:
        await database.dispose()


def _serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(arguments)
    logs.configure(settings.log_level)
    _ensure_data_dir(settings)
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
        print(
            f"idstore: cannot reach the database at {_shown(settings)}: "
            f"{type(getattr(failure, 'orig', failure)).__name__}",
            file=sys.stderr,
        )
        return 1
    if prepared.bootstrap_api_key is not None:
        supplied = bool(settings.bootstrap_api_key)
        _announce_bootstrap_key(settings, prepared.bootstrap_api_key, supplied=supplied)

    # Worker processes read their settings from the environment: pass the flags on that way.
    for name in ("host", "port", "workers", "database_url", "data_dir"):
        value = getattr(arguments, name, None)
        if value is not None:
            os.environ[f"IDSTORE_{name.upper()}"] = str(value)
    print(f"idstore: serving on http://{settings.host}:{settings.port} (docs at /docs)", flush=True)
    uvicorn.run(
        "idstore.cli:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        server_header=False,
    )
    return 0


def app_from_environment() -> object:
    """The ASGI app for one server process, configured from IDSTORE_* variables."""
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    return create_app(settings)


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
