"""The operators' commands of `idstore`: API keys, key rotation, audit verification."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable
from typing import Any

from idstore.cli_database import add_database_options, opened, require_database
from idstore.clock import SystemClock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import key_source, load_keyring
from idstore.keyrotation import (
    STEP_WAIT_SECONDS,
    RotationRunning,
    add_key_to_file,
    reseal,
    rotation_lock,
)
from idstore.services import api_key_rules, api_keys, callers
from idstore.services.audit_verification import ChainReport, verify_store
from idstore.services.errors import StoreNotFound
from idstore.services.rotation import ResealReport
from idstore.settings import Settings
from idstore.startup import UnsafeStart, refuse_a_foreign_key_ring


def ensure_data_dir(settings: Settings) -> None:
    # Only this service's user may look inside: the database and the key ring live here.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def settings_from(arguments: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(arguments, name, None)
        for name in ("host", "port", "workers", "database_url", "data_dir")
    }
    return Settings.from_env(**overrides)


def show_help_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """What a command group runs when called without its sub-command: its own help."""

    def show(_arguments: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def whole_number(text: str) -> int:
    """A numeric option in ASCII digits only: int() also takes other scripts' digits (Arabic-
    Indic ten reads as 10), signs, spaces and underscores."""
    if not re.fullmatch(r"[0-9]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number written in 0-9")
    return int(text)


def seconds(text: str) -> float:
    """A duration option in seconds, in ASCII digits with an optional fraction (12 or 0.5)."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds written in 0-9")
    return float(text)


def foreign_key_ring(settings: Settings, keyring: KeyRing) -> str | None:
    """Why the database's keys and secrets were not made with `keyring`, or None when they were
    (or when the database holds none yet): a command writing with a foreign ring would seal what
    no server can open."""

    async def check() -> None:
        async with opened(settings) as database:
            await refuse_a_foreign_key_ring(database, keyring)

    try:
        asyncio.run(check())
    except UnsafeStart as refusal:
        return str(refusal)
    return None


def add_operation_commands(commands: Any) -> None:
    """Add `api-key`, `rotate-keys` and `verify-audit` to the command parser."""
    api_key = commands.add_parser("api-key", help="manage API keys from the server's side")
    api_key.set_defaults(run=show_help_of(api_key))
    api_key_commands = api_key.add_subparsers(title="api-key commands")
    create_key = api_key_commands.add_parser(
        "create",
        help="create an API key for a tenant and print it (shown this once)",
        description="Create an API key directly in the database, e.g. the first key of a tenant "
        "or the first key of a PostgreSQL database after a first run on SQLite. The database "
        "must exist (`idstore migrate` creates it).",
    )
    create_key.add_argument("--tenant", required=True, help="the tenant the key belongs to")
    create_key.add_argument(
        "--permission",
        action="append",
        required=True,
        help="TNT#{tenant}#IdentityStore:{operation} or …:* (repeat for several)",
    )
    create_key.add_argument(
        "--name", type=_key_name, help="a label to recognise the key by (at most 128 characters)"
    )
    add_database_options(create_key)
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
        type=seconds,
        default=STEP_WAIT_SECONDS,
        help="seconds to let every server read the key file between steps "
        f"(default {STEP_WAIT_SECONDS:.0f})",
    )
    add_database_options(rotate)
    rotate.set_defaults(run=_rotate_keys)

    verify = commands.add_parser(
        "verify-audit",
        help="check that no authentication audit record of a store was altered, removed or added",
        description="Walk every user's audit chain in the store and name the first broken link "
        "of each; exit 1 when one is broken.",
    )
    target = verify.add_mutually_exclusive_group(required=True)
    target.add_argument("--store", help="the store's name")
    target.add_argument("--store-id", help="the store's id (for a store since deleted)")
    verify.add_argument("--tenant", default="default", help="the store's tenant (default: default)")
    add_database_options(verify)
    verify.set_defaults(run=_verify_audit)


def _verify_audit(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    require_database(settings)
    try:
        report = asyncio.run(_walk_chains(settings, arguments))
    except StoreNotFound:
        print(
            f"idstore: no store {arguments.store!r} in tenant {arguments.tenant!r}", file=sys.stderr
        )
        return 2
    for broken in report.breaks:
        print(f"user {broken.user_id}: record {broken.record_id}: {broken.problem}")
    print(chain_summary(report))
    return 1 if report.breaks else 0


def chain_summary(report: ChainReport) -> str:
    """The last line of `verify-audit`: what it checked and how many chains are broken."""
    return (
        f"idstore: {counted(report.records, 'record')} of {counted(report.users, 'user')} "
        f"checked, {report.unchained} written before chaining; "
        f"{counted(len(report.breaks), 'broken chain')}"
    )


def counted(number: int, noun: str) -> str:
    """`number noun`, the noun in the plural (an -s plural) unless the number is one."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


async def _walk_chains(settings: Settings, arguments: argparse.Namespace) -> ChainReport:
    async with opened(settings) as database:
        return await verify_store(
            database,
            load_keyring(settings),
            tenant_id=arguments.tenant,
            store_name=arguments.store,
            store_id=arguments.store_id,
            # Standard error, like every command's progress: standard output is the findings.
            progress=lambda done: print(
                f"idstore: {done} records checked", file=sys.stderr, flush=True
            ),
        )


def _key_name(text: str) -> str:
    if not 1 <= len(text) <= 128:
        raise argparse.ArgumentTypeError("a key name has 1 to 128 characters")
    try:
        return api_key_rules.check_key_name(text)
    except ValueError as refusal:
        raise argparse.ArgumentTypeError(f"a key name {refusal}") from None


def _create_api_key(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    if len(arguments.permission) > api_key_rules.MAX_PERMISSIONS:
        print(
            f"idstore: {len(arguments.permission)} permissions given; a key holds at most "
            f"{api_key_rules.MAX_PERMISSIONS}",
            file=sys.stderr,
        )
        return 2
    try:
        permissions = api_key_rules.permissions_held(arguments.permission)
    except api_key_rules.PermissionRefused as refused:
        print(f"idstore: permission {refused}", file=sys.stderr)
        return 2
    prefix = callers.PERMISSION_PREFIX.format(tenant=arguments.tenant)
    foreign = [granted for granted in permissions if not granted.startswith(prefix)]
    if foreign:
        print(
            f"idstore: {foreign[0]!r} is not a permission of tenant {arguments.tenant!r}",
            file=sys.stderr,
        )
        return 2
    key = asyncio.run(_store_api_key(settings, arguments, permissions))
    print(key)
    return 0


async def _store_api_key(
    settings: Settings, arguments: argparse.Namespace, permissions: tuple[str, ...]
) -> str:
    keyring = load_keyring(settings)  # first: raises KeyRingMissing before touching anything
    require_database(settings)
    async with opened(settings, migrated=True) as database, database.transaction() as conn:
        _, key = await api_keys.create_api_key(
            conn,
            keyring,
            tenant_id=arguments.tenant,
            permissions=permissions,
            now=SystemClock().now(),
            name=arguments.name,
        )
    return key


def _rotate_keys(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments)
    current = key_source(settings).current()  # raises KeyRingMissing when there is none
    require_database(settings)  # before anything is opened or changed: it creates nothing
    # Before the key file gains a key: a ring that opens nothing here must change nothing.
    foreign = foreign_key_ring(settings, current)
    if foreign:
        print(f"idstore: nothing re-sealed: {foreign}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(f"idstore: {line}", flush=True)

    if settings.secret_keys:
        ring = current
        say(f"keys come from IDSTORE_SECRET_KEYS; re-sealing under {ring.current_key_id}")
        report = asyncio.run(_reseal(settings, ring, say))
    else:
        path = settings.resolved_key_file
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
    async with opened(settings) as database:
        return await reseal(database, ring, say=say)
