"""Starting, reading and removing a user's TOTP registration (spec §5.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import otp
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import events, locking
from idstore.services.conflicts import conflict
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    InvalidField,
    PolicyNotFound,
    RegistrationExpired,
    RegistrationNotFound,
    TotpAlreadyRegistered,
    UserDisabled,
    UserLocked,
)
from idstore.services.models import TotpPolicy, TotpStatus, User, UserStatus, UserTotp
from idstore.services.policies import effective_issuer, effective_secret_length, find_policy
from idstore.services.rows import (
    find_store,
    find_user_row,
    load_user,
    totp_from_row,
    user_with_totps,
)

# A QR code (level M, byte mode) holds at most 2331 bytes; an otpauth URI beyond this bound could
# not be scanned, and its QR code could not even be drawn. Labels that long serve no one.
MAX_OTPAUTH_URI_LENGTH = 2048


@dataclass(frozen=True)
class Registration:
    """A TOTP with, when the caller may see them, its secret and otpauth URI."""

    totp: UserTotp
    secret: bytes | None = None
    otpauth_uri: str | None = None

    def __repr__(self) -> str:  # the secret must not reach a log line through a repr
        return f"Registration(totp={self.totp!r}, secret=<hidden>)"


async def start_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    policy_name: str,
    username: str | None,
) -> Registration:
    """Make a new secret and a PENDING TOTP for the user and policy, replacing a pending one.

    Raises 3000, 3100, 3200, UserDisabled (2102), UserLocked (2100), TotpAlreadyRegistered (3301)
    when an active or disabled TOTP exists, and InvalidField (9002) for a label holding ":" or
    one too long for a QR code.
    """
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        policy = await find_policy(conn, store_id=store.id, name=policy_name)
        # The user's standing alone: the TOTP of this policy is read below, passkeys not at all.
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        user = user_with_totps(user_row, (), ctx.now)
        _check_may_enrol(user, ctx)

        existing = await _find_totp_row(
            conn, store_id=store.id, user_id=user.id, policy_id=policy.id
        )
        if existing is not None and existing.status != TotpStatus.PENDING:
            raise TotpAlreadyRegistered()

        totp = _new_totp(user, policy, store_name=store.name, username=username, ctx=ctx)
        secret = otp.generate_secret(effective_secret_length(policy))
        uri = _otpauth_uri(totp, secret)
        if len(uri) > MAX_OTPAUTH_URI_LENGTH:
            # Named as the ':' rule names it: the username is what the caller can shorten.
            raise InvalidField.of(
                "username", "issuer and username are too long for an otpauth URI and QR code"
            )

        if existing is not None:
            await conn.execute(
                delete(tables.user_totps).where(
                    tables.user_totps.c.store_id == store.id, tables.user_totps.c.id == existing.id
                )
            )
        try:
            await conn.execute(
                insert(tables.user_totps).values(
                    {
                        **totp.__dict__,
                        "status": str(totp.status),
                        "algorithm": str(totp.algorithm),
                        "store_id": store.id,
                        "secret_sealed": keyring.seal(secret, context=totp.id),
                    }
                )
            )
        except IntegrityError as exc:
            # The policy (or its store) was deleted while this registration started.
            missing = PolicyNotFound(f"TOTP policy {policy_name!r} not found")
            raise conflict(exc, unique=TotpAlreadyRegistered(), missing=missing) from exc
        await events.record(
            conn,
            ctx,
            "totp.registrationStarted",
            store_id=store.id,
            subject_id=totp.id,
            details={"userId": user.id, "policyName": policy.name},
        )
        return Registration(totp=totp, secret=secret, otpauth_uri=uri)


def _check_may_enrol(user: User, ctx: Context) -> None:
    if user.admin_status is UserStatus.DISABLED:
        raise UserDisabled()
    if locking.user_lock_holds(user.lock_state, ctx.now):
        raise UserLocked()


def _new_totp(
    user: User, policy: TotpPolicy, *, store_name: str, username: str | None, ctx: Context
) -> UserTotp:
    return UserTotp(
        id=new_id(),
        user_id=user.id,
        policy_id=policy.id,
        policy_name=policy.name,
        status=TotpStatus.PENDING,
        issuer=effective_issuer(policy, store_name),
        username=user.external_id if username is None else username,
        algorithm=policy.algorithm,
        digits=policy.digits,
        period=policy.period,
        last_used_step=-1,
        created_dtm=ctx.now,
        last_updated_dtm=ctx.now,
        activated_dtm=None,
        expiration_dtm=ctx.now + timedelta(seconds=policy.registration_timeout_seconds),
        last_authenticated_with_dtm=None,
    )


def _otpauth_uri(totp: UserTotp, secret: bytes) -> str:
    parameters = otp.OtpauthParameters(
        secret=secret,
        issuer=totp.issuer,
        username=totp.username,
        algorithm=totp.algorithm,
        digits=totp.digits,
        period=totp.period,
    )
    try:
        return otp.build_otpauth_uri(parameters)
    except otp.InvalidLabel as exc:
        # A username defaulted from an external id holding ":" must be passed explicitly.
        raise InvalidField.of(exc.field, f"the {exc.field} may not be blank or hold ':'") from exc


async def _find_totp_row(
    conn: AsyncConnection, *, store_id: str, user_id: str, policy_id: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(tables.user_totps).where(*_of_policy(store_id, user_id, policy_id))
        )
    ).first()


def _of_policy(store_id: str, user_id: str, policy_id: str) -> tuple[ColumnElement[bool], ...]:
    """The user's TOTP for the policy, by the unique key (store_id, user_id, policy_id)."""
    totps = tables.user_totps.c
    return (totps.store_id == store_id, totps.user_id == user_id, totps.policy_id == policy_id)


async def get_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    policy_name: str,
) -> Registration:
    """While pending: the TOTP with its secret and URI. Once active: the TOTP alone, unless the
    policy allows the secret to be read back. Raises 3000, 3100, 3200, 3300, 3302.
    """
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        policy = await find_policy(conn, store_id=store.id, name=policy_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        row = await _find_totp_row(conn, store_id=store.id, user_id=user.id, policy_id=policy.id)

    if row is None:
        raise RegistrationNotFound()
    totp = totp_from_row(row)
    if totp.is_expired(ctx.now):
        raise RegistrationExpired()
    if totp.status is not TotpStatus.PENDING and not policy.allow_secret_retrieval:
        return Registration(totp=totp)

    secret = keyring.open(row.secret_sealed, context=totp.id)
    return Registration(totp=totp, secret=secret, otpauth_uri=_otpauth_uri(totp, secret))


async def deregister(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, policy_name: str
) -> User:
    """Remove the user's TOTP for the policy, whatever its status. Raises 3000, 3100, 3200, 3300."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        policy = await find_policy(conn, store_id=store.id, name=policy_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)

        removed = await conn.execute(
            delete(tables.user_totps).where(*_of_policy(store.id, user.id, policy.id))
        )
        if removed.rowcount == 0:
            raise RegistrationNotFound()
        await events.record(
            conn,
            ctx,
            "totp.deregistered",
            store_id=store.id,
            subject_id=user.id,
            details={"policyName": policy.name},
        )
        return await load_user(conn, store_id=store.id, ref=UserRef.by_id(user.id), now=ctx.now)
