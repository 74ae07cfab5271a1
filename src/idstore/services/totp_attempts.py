"""Proving a TOTP code: authentication and registration completion (spec §5.2, §6, §7).

Both run as one transaction on the hot path. One SELECT reads the store's locking policy, the
policy's drift, the user and all of the user's TOTPs, and locks the user row (FOR UPDATE OF users;
SQLite's BEGIN IMMEDIATE serialises instead). Under that lock the attempt is judged, counted and
audited, so concurrent attempts for one user are decided one after the other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import otp
from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.hot import HotStatement
from idstore.services import audit, configuration, store_ids
from idstore.services.appkey_rows import appkeys_of
from idstore.services.attempts import Attempt
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    AuthenticatorDisabled,
    CodeAlreadyUsed,
    CodeIncorrect,
    CodeMalformed,
    IdstoreError,
    PolicyNotFound,
    RegistrationExpired,
    RegistrationNotFound,
    TotpAlreadyRegistered,
    TotpNotActive,
    UnexpectedError,
)
from idstore.services.face_rows import biometrics_of
from idstore.services.models import (
    JsonObject,
    Modality,
    TotpStatus,
    User,
    UserTotp,
    replaced,
)
from idstore.services.rows import (
    TOTP_COLUMNS,
    find_store,
    find_user_row,
    passkeys_of,
    totp_attempt_query,
    totp_from_row,
    user_with_totps,
)
from idstore.services.throttle import AttemptRate

log = logging.getLogger(__name__)


_TOTPS = tables.user_totps.c
# Built once, the SET clause from the parameters: accepts a step only past the last one used.
_ACCEPT_STEP = HotStatement(
    update(tables.user_totps).where(
        _TOTPS.store_id == bindparam("b_store_id"),
        _TOTPS.id == bindparam("b_id"),
        _TOTPS.status == bindparam("b_status"),
        _TOTPS.last_used_step < bindparam("b_step"),
    ),
    column_keys=(
        "status",
        "last_used_step",
        "last_authenticated_with_dtm",
        "last_updated_dtm",
        "activated_dtm",
        "expiration_dtm",
    ),
)


@dataclass(frozen=True)
class TotpAuthentication:
    """A code accepted: the updated user and TOTP, and the audit record's id."""

    user: User
    totp: UserTotp
    authentication_id: str


async def authenticate(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    policy_name: str,
    code: str,
    rate: AttemptRate,
) -> TotpAuthentication:
    """Accept one code of the user's active TOTP for the policy.

    Raises UserDisabled (2102), UserLocked (2100), UserNotActive (502), PolicyNotFound (3200),
    RegistrationNotFound (3300), AuthenticatorDisabled (2103), TotpNotActive (3304),
    ModalityLocked (2101), TooManyRequests (9005, the user's attempt rate), CodeMalformed
    (3400), CodeIncorrect (3401), CodeAlreadyUsed (3402); each refusal is audited and carries
    the updated user.
    """
    async with database.transaction() as conn:
        attempt = await _TotpAttempt.begin(conn, ctx, keyring, store_name, ref, policy_name, rate)
        await attempt.check_standing(enrolling=False)
        drift_steps = await attempt.policy_drift_steps()
        held = await attempt.active_totp()
        step = await attempt.verify(held, code, drift_steps=drift_steps)
        return await attempt.accept(held, step, activating=False)


async def complete_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    policy_name: str,
    code: str,
    rate: AttemptRate,
) -> TotpAuthentication:
    """Activate the user's pending TOTP with a first valid code: an attempt like any other.

    Raises as `authenticate` does, with TotpAlreadyRegistered (3301) for a TOTP that is active
    and RegistrationExpired (3302) past the deadline, which also removes the pending TOTP.
    """
    async with database.transaction() as conn:
        attempt = await _TotpAttempt.begin(conn, ctx, keyring, store_name, ref, policy_name, rate)
        await attempt.check_standing(enrolling=True)
        drift_steps = await attempt.policy_drift_steps()
        held = await attempt.pending_totp()
        step = await attempt.verify(held, code, drift_steps=drift_steps)
        return await attempt.accept(held, step, activating=True)


async def _with_more_authenticators(conn: AsyncConnection, user: User, row: Any) -> User:
    """The user with the passkeys, appkeys and faces its summary shows, each read only when
    there are any."""
    owner = {"store_id": user.store_id, "user_id": user.id}
    if row.has_passkeys:
        user = replaced(user, passkeys=await passkeys_of(conn, **owner))
    if row.has_biometrics:
        user = replaced(user, biometrics=await biometrics_of(conn, **owner))
    if row.has_appkeys:
        user = replaced(user, appkeys=await appkeys_of(conn, **owner))
    return user


@dataclass(frozen=True)
class _HeldTotp:
    """The TOTP under attempt with its sealed secret, which never leaves this module."""

    totp: UserTotp
    secret_sealed: bytes


@dataclass(kw_only=True)
class _TotpAttempt(Attempt):
    modality: ClassVar[Modality] = Modality.TOTP
    event: ClassVar[str] = "totp"

    policy_name: str
    drift_steps: int | None
    held: _HeldTotp | None

    @classmethod
    async def begin(
        cls,
        conn: AsyncConnection,
        ctx: Context,
        keyring: KeyRing,
        store_name: str,
        ref: UserRef,
        policy: str,
        rate: AttemptRate,
    ) -> _TotpAttempt:
        """Read and lock everything the attempt needs in one statement."""
        query, parameters = totp_attempt_query(ctx, store_name, ref, policy)
        store_id = store_ids.remembered(conn, tenant_id=ctx.tenant_id, name=store_name)
        rows = (
            [] if store_id is None else await query.rows(conn, {**parameters, "store_id": store_id})
        )
        if not rows:
            # A missing store (3000) or user (3100), or a store this process has not read yet or
            # knows by an id that is no longer its own (deleted, then created anew): reading it
            # remembers its id, and the attempt tries once more with that.
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            if store.id != store_id:
                rows = await query.rows(conn, {**parameters, "store_id": store.id})
            if not rows:
                await find_user_row(conn, store_id=store.id, ref=ref)

        first = rows[0]
        totp_rows = [row for row in rows if row.totp_id is not None]
        totps = [totp_from_row(row, TOTP_COLUMNS) for row in totp_rows]
        ours = next(
            (
                _HeldTotp(totp, row.totp_secret_sealed)
                for row, totp in zip(totp_rows, totps, strict=True)
                if row.totp_policy_id == first.policy_id
            ),
            None,
        )
        return cls(
            conn=conn,
            ctx=ctx,
            store_id=first.store_id,
            locking_policy=configuration.from_text(first.store_configuration).user_locking,
            user=await _with_more_authenticators(
                conn, user_with_totps(first, totps, ctx.now), first
            ),
            rate=rate,
            keyring=keyring,
            policy_name=policy,
            drift_steps=first.policy_drift_steps,
            held=ours,
        )

    def audit_details(self) -> JsonObject:
        totp = None if self.held is None else self.held.totp
        return audit.totp_details(totp, policy_name=self.policy_name)

    def log_fields(self) -> dict[str, object]:
        totp_id = None if self.held is None else self.held.totp.id
        return {**super().log_fields(), "policy": self.policy_name, "totp_id": totp_id}

    async def policy_drift_steps(self) -> int:
        """The policy's drift window, which applies at once to TOTPs registered before a change."""
        if self.drift_steps is None:
            raise await self.refuse(PolicyNotFound(f"TOTP policy {self.policy_name!r} not found"))
        return self.drift_steps

    async def active_totp(self) -> _HeldTotp:
        held = self.held
        if held is None or held.totp.is_expired(self.ctx.now):
            raise await self.refuse(RegistrationNotFound())
        if held.totp.status is TotpStatus.DISABLED:
            raise await self.refuse(AuthenticatorDisabled())
        if held.totp.status is TotpStatus.PENDING:
            raise await self.refuse(TotpNotActive())
        return held

    async def pending_totp(self) -> _HeldTotp:
        held = self.held
        if held is None:
            raise await self.refuse(RegistrationNotFound())
        if held.totp.status is TotpStatus.DISABLED:
            raise await self.refuse(AuthenticatorDisabled())
        if held.totp.status is not TotpStatus.PENDING:
            raise await self.refuse(TotpAlreadyRegistered())
        if held.totp.is_expired(self.ctx.now):
            await self._forget(held.totp.id)
            raise await self.refuse(RegistrationExpired())
        return held

    async def _forget(self, totp_id: str) -> None:
        await self.conn.execute(delete(tables.user_totps).where(self._the_totp(totp_id)))
        self.user = replaced(self.user, totps=tuple(t for t in self.user.totps if t.id != totp_id))

    def _the_totp(self, totp_id: str) -> ColumnElement[bool]:
        return (_TOTPS.store_id == self.store_id) & (_TOTPS.id == totp_id)

    async def verify(self, held: _HeldTotp, code: str, *, drift_steps: int) -> int:
        """The time step the code proves, newer than any step accepted before."""
        totp = held.totp
        await self.check_modality()
        try:
            normalized = otp.normalize_code(code, digits=totp.digits)
        except otp.MalformedCode:
            raise await self.refuse(CodeMalformed()) from None

        steps = otp.matching_steps(
            await self._open_secret(held),
            normalized,
            now=self.ctx.now.timestamp(),
            period=totp.period,
            digits=totp.digits,
            algorithm=totp.algorithm,
            drift_steps=drift_steps,
        )
        if not steps:
            raise await self.refuse(CodeIncorrect(), counts=True)
        fresh = [step for step in steps if step > totp.last_used_step]
        if not fresh:
            raise await self.refuse(CodeAlreadyUsed(), counts=True)
        return fresh[0]

    async def _open_secret(self, held: _HeldTotp) -> bytes:
        try:
            return self.keyring.open(held.secret_sealed, context=held.totp.id)
        except SealBroken:
            # Fail closed, and leave a trace: an altered secret never reads as a wrong code.
            log.error("secret.unseal_failed", extra={"totp_id": held.totp.id}, exc_info=True)
            raise await self.refuse(UnexpectedError()) from None

    async def accept(self, held: _HeldTotp, step: int, *, activating: bool) -> TotpAuthentication:
        now, totp = self.ctx.now, held.totp
        activation: dict[str, Any] = (
            {"status": TotpStatus.ACTIVE, "activated_dtm": now, "expiration_dtm": None}
            if activating
            else {}
        )
        used = replaced(
            totp,
            last_used_step=step,
            last_authenticated_with_dtm=now,
            last_updated_dtm=now,
            **activation,
        )

        # One conditional UPDATE decides: a check in Python would let two servers accept one code.
        expected = TotpStatus.PENDING if activating else TotpStatus.ACTIVE
        accepted = await _ACCEPT_STEP.rowcount(
            self.conn,
            {
                **_used_values(used),
                "b_store_id": self.store_id,
                "b_id": totp.id,
                "b_status": str(expected),
                "b_step": step,
            },
        )
        if accepted != 1:
            raise await self._lost_race(totp.id, activating=activating)

        self.held = _HeldTotp(used, held.secret_sealed)
        record = await self.succeed()
        if activating:
            log.info("totp.activated", extra=self.log_fields())
        user = replaced(
            self.user, totps=tuple(used if t.id == used.id else t for t in self.user.totps)
        )
        return TotpAuthentication(user=user, totp=used, authentication_id=record.id)

    async def _lost_race(self, totp_id: str, *, activating: bool) -> IdstoreError:
        """Refuse for what a concurrent request changed since this attempt read the TOTP.

        On PostgreSQL the attempt's one read waits for the user-row lock, then sees the user as
        it is but the TOTP as it was before the lock was granted; only the UPDATE sees the TOTP
        as it is. A status test there keeps an administrator's DISABLED from being overwritten,
        and this re-read names the refusal as SQLite, which serialises whole attempts, does.
        """
        row = (
            await self.conn.execute(select(tables.user_totps).where(self._the_totp(totp_id)))
        ).first()
        if row is None:
            self.user = replaced(
                self.user, totps=tuple(t for t in self.user.totps if t.id != totp_id)
            )
            return await self.refuse(RegistrationNotFound())

        current = totp_from_row(row)
        self.user = replaced(
            self.user, totps=tuple(current if t.id == totp_id else t for t in self.user.totps)
        )
        self.held = _HeldTotp(current, row.secret_sealed)
        if current.status is TotpStatus.DISABLED:
            return await self.refuse(AuthenticatorDisabled())
        if activating and current.status is TotpStatus.ACTIVE:
            return await self.refuse(TotpAlreadyRegistered())
        return await self.refuse(CodeAlreadyUsed(), counts=True)


def _used_values(totp: UserTotp) -> dict[str, Any]:
    return {
        "status": str(totp.status),
        "last_used_step": totp.last_used_step,
        "last_authenticated_with_dtm": totp.last_authenticated_with_dtm,
        "last_updated_dtm": totp.last_updated_dtm,
        "activated_dtm": totp.activated_dtm,
        "expiration_dtm": totp.expiration_dtm,
    }
