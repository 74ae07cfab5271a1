"""`idstore import-totp`: TOTPs from another system's file, as ACTIVE TOTPs of a store's users.

One transaction per run. Every line is checked before anything is written; a refused line
undoes the whole run unless `continue_on_error`, and `dry_run` checks and writes nothing.
Users named by an external id the store does not know are created with the store's defaults.
Secrets are sealed as a registration seals them: with the key ring, the TOTP's id as context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import configuration, events
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import ExternalIdTaken, InvalidField, PolicyNotFound
from idstore.services.models import TotpPolicy, TotpStatus
from idstore.services.policies import effective_issuer, find_policy
from idstore.services.rows import StoreRow, find_store, policy_from_row
from idstore.services.users import UserChanges, new_user_row
from idstore.transfer.pskc import PskcUnreadable
from idstore.transfer.totp_files import detect_format, read_totp_file
from idstore.transfer.totp_records import Format, ImportedTotp, Refusal, TotpDefaults

DEFAULT_POLICY = "default"
# Bound on the ids one IN (...) names: SQLite allows 32766 parameters, asyncpg 32767.
_CHUNK = 1000

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """How a run goes: `policy_name` None takes the store's default policy."""

    policy_name: str | None = None
    file_format: Format | None = None
    continue_on_error: bool = False
    dry_run: bool = False
    replace: bool = False
    pskc_key: bytes | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class ImportReport:
    """What a run did, or (when not `committed`) would have done."""

    file_format: Format
    policy_name: str
    created_users: int
    created_totps: int
    replaced_totps: int
    refusals: tuple[Refusal, ...]
    committed: bool


class _Discard(Exception):
    """Leaves the transaction with a rollback, carrying the report of what was not written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import discarded")
        self.report = report


@dataclasses.dataclass
class _Plan:
    """The rows a run writes, worked out before the first write."""

    new_users: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    user_ids: dict[str, str] = dataclasses.field(default_factory=dict)
    replaced_totp_ids: list[str] = dataclasses.field(default_factory=list)
    totps: list[ImportedTotp] = dataclasses.field(default_factory=list)
    refusals: list[Refusal] = dataclasses.field(default_factory=list)


async def import_totps(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    text: str,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the file's TOTPs into the store under one policy, in one transaction.

    Raises StoreNotFound (3000), PolicyNotFound (3200), InvalidField (9002) for a file that
    cannot be read as a whole (an encrypted PSKC file without its key, say), and
    ExternalIdTaken (3101) when a user or TOTP of the file was created by someone else meanwhile.
    """
    try:
        async with database.transaction() as conn:
            return await _run(conn, keyring, ctx, store_name, text, options, progress)
    except _Discard as discarded:
        return discarded.report


async def _run(
    conn: AsyncConnection,
    keyring: KeyRing,
    ctx: Context,
    store_name: str,
    text: str,
    options: ImportOptions,
    progress: Progress | None,
) -> ImportReport:
    store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name, for_update=True)
    policy = await _target_policy(conn, store, options.policy_name)
    file_format = options.file_format or detect_format(text)
    lines = _read(text, file_format, _defaults(policy, store.name), options.pskc_key)

    plan = await _plan(conn, store, policy, lines, options, ctx)
    report = ImportReport(
        file_format=file_format,
        policy_name=policy.name,
        created_users=len(plan.new_users),
        created_totps=len(plan.totps),
        replaced_totps=len(plan.replaced_totp_ids),
        refusals=tuple(plan.refusals),
        committed=False,
    )
    if options.dry_run or (plan.refusals and not options.continue_on_error):
        raise _Discard(report)

    try:
        await _write(conn, keyring, ctx, store, policy, plan, progress)
    except IntegrityError as exc:
        # Checked above, so only a concurrent change gets here (an API call created one of
        # the users or TOTPs meanwhile): the run is undone whole, and may simply run again.
        meanwhile = ExternalIdTaken("a user or TOTP of the file was created meanwhile: run again")
        raise conflict(exc, unique=meanwhile, missing=meanwhile) from exc
    return dataclasses.replace(report, committed=True)


async def _target_policy(conn: AsyncConnection, store: StoreRow, name: str | None) -> TotpPolicy:
    """The named policy; unnamed, the one called "default", else the store's only one."""
    if name is not None:
        return await find_policy(conn, store_id=store.id, name=name)
    rows = (
        await conn.execute(
            select(tables.totp_policies).where(tables.totp_policies.c.store_id == store.id)
        )
    ).all()
    policies = {row.name: row for row in rows}
    if DEFAULT_POLICY in policies:
        return policy_from_row(policies[DEFAULT_POLICY])
    if len(policies) == 1:
        return policy_from_row(rows[0])
    raise PolicyNotFound(
        f"store {store.name!r} has no policy named {DEFAULT_POLICY!r} nor a single policy: "
        "name one with --policy"
    )


def _defaults(policy: TotpPolicy, store_name: str) -> TotpDefaults:
    return TotpDefaults(
        algorithm=policy.algorithm,
        digits=policy.digits,
        period=policy.period,
        issuer=effective_issuer(policy, store_name),
    )


def _read(
    text: str, file_format: Format, defaults: TotpDefaults, pskc_key: bytes | None
) -> list[ImportedTotp | Refusal]:
    try:
        return read_totp_file(text, file_format, defaults, pskc_key=pskc_key)
    except PskcUnreadable as exc:
        raise InvalidField.of("file", str(exc)) from exc


async def _plan(
    conn: AsyncConnection,
    store: StoreRow,
    policy: TotpPolicy,
    lines: Sequence[ImportedTotp | Refusal],
    options: ImportOptions,
    ctx: Context,
) -> _Plan:
    plan = _Plan()
    store_defaults = configuration.from_json(store.configuration)
    totps = _first_of_each_user(lines, plan.refusals)
    plan.user_ids = await _existing_users(conn, store.id, [t.external_id for t in totps])
    registered = await _registered_totps(conn, policy.id, list(plan.user_ids.values()))

    for totp in totps:
        user_id = plan.user_ids.get(totp.external_id)
        status, totp_id = registered.get(user_id, (None, None)) if user_id else (None, None)
        if status in {TotpStatus.ACTIVE, TotpStatus.DISABLED} and not options.replace:
            reason = f"already has a TOTP ({status}) for policy {policy.name!r}; see --replace"
            plan.refusals.append(Refusal(totp.where, totp.external_id, reason))
            continue
        if totp_id is not None:
            plan.replaced_totp_ids.append(totp_id)
        if user_id is None:
            changes = UserChanges({"external_id": totp.external_id})
            row = new_user_row(store.id, store_defaults, changes, ctx.now)
            plan.new_users.append(row)
            plan.user_ids[totp.external_id] = row["id"]
        plan.totps.append(totp)

    order = {line.where: position for position, line in enumerate(lines)}
    plan.refusals.sort(key=lambda refusal: order[refusal.where])
    return plan


def _first_of_each_user(
    lines: Sequence[ImportedTotp | Refusal], refusals: list[Refusal]
) -> list[ImportedTotp]:
    """The TOTPs to import: one per user and policy, so a second line for a user is refused."""
    first: dict[str, ImportedTotp] = {}
    for line in lines:
        if isinstance(line, Refusal):
            refusals.append(line)
        elif line.external_id in first:
            earlier = first[line.external_id].where
            refusals.append(Refusal(line.where, line.external_id, f"a second TOTP ({earlier})"))
        else:
            first[line.external_id] = line
    return list(first.values())


async def _existing_users(
    conn: AsyncConnection, store_id: str, external_ids: list[str]
) -> dict[str, str]:
    users = tables.users.c
    found: dict[str, str] = {}
    for chunk in _chunks(external_ids):
        rows = await conn.execute(
            select(users.external_id, users.id).where(
                users.store_id == store_id, users.external_id.in_(chunk)
            )
        )
        found.update({row.external_id: row.id for row in rows})
    return found


async def _registered_totps(
    conn: AsyncConnection, policy_id: str, user_ids: list[str]
) -> dict[str, tuple[TotpStatus, str]]:
    """Each user's TOTP for the policy: its status and id."""
    totps = tables.user_totps.c
    found: dict[str, tuple[TotpStatus, str]] = {}
    for chunk in _chunks(user_ids):
        rows = await conn.execute(
            select(totps.user_id, totps.status, totps.id).where(
                totps.policy_id == policy_id, totps.user_id.in_(chunk)
            )
        )
        found.update({row.user_id: (TotpStatus(row.status), row.id) for row in rows})
    return found


async def _write(
    conn: AsyncConnection,
    keyring: KeyRing,
    ctx: Context,
    store: StoreRow,
    policy: TotpPolicy,
    plan: _Plan,
    progress: Progress | None,
) -> None:
    for users in _chunks(plan.new_users):
        await conn.execute(insert(tables.users), users)
    for ids in _chunks(plan.replaced_totp_ids):
        totps = tables.user_totps.c
        await conn.execute(
            delete(tables.user_totps).where(totps.store_id == store.id, totps.id.in_(ids))
        )

    done = 0
    for chunk in _chunks(plan.totps):
        rows = [_totp_row(keyring, ctx, store, policy, plan.user_ids, totp) for totp in chunk]
        await conn.execute(insert(tables.user_totps), rows)
        await events.record_many(conn, ctx, _events(store, policy, plan, rows))
        done += len(chunk)
        if progress is not None:
            progress("written", done, len(plan.totps))


def _totp_row(
    keyring: KeyRing,
    ctx: Context,
    store: StoreRow,
    policy: TotpPolicy,
    user_ids: dict[str, str],
    totp: ImportedTotp,
) -> dict[str, Any]:
    totp_id = new_id()
    return {
        "id": totp_id,
        "store_id": store.id,
        "user_id": user_ids[totp.external_id],
        "policy_id": policy.id,
        "policy_name": policy.name,
        "status": str(TotpStatus.ACTIVE),
        "issuer": totp.issuer,
        "username": totp.external_id,
        "algorithm": str(totp.algorithm),
        "digits": totp.digits,
        "period": totp.period,
        "secret_sealed": keyring.seal(totp.secret, context=totp_id),
        "last_used_step": -1,
        "created_dtm": ctx.now,
        "last_updated_dtm": ctx.now,
        # Imported as in use already: activated now, so that it can be disabled and enabled.
        "activated_dtm": ctx.now,
        "expiration_dtm": None,
        "last_authenticated_with_dtm": None,
    }


def _events(
    store: StoreRow, policy: TotpPolicy, plan: _Plan, rows: list[dict[str, Any]]
) -> list[events.Change]:
    new_user_ids = {row["id"] for row in plan.new_users}
    changes = [
        events.Change("user.created", store.id, row["user_id"])
        for row in rows
        if row["user_id"] in new_user_ids
    ]
    changes += [
        events.Change(
            "totp.imported",
            store.id,
            row["id"],
            {"userId": row["user_id"], "policyName": policy.name},
        )
        for row in rows
    ]
    return changes


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
