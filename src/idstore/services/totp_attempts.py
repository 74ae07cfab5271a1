"""Proving a TOTP code: authentication and registration completion (spec §5.2, §6, §7).

Both run as one transaction on the hot path. One SELECT reads the store's locking policy, the
policy's drift, the user and all of the user's TOTPs, and locks the user row (FOR UPDATE OF users;
SQLite's BEGIN IMMEDIATE serialises instead). Under that lock the attempt is judged, counted and
audited, so concurrent attempts for one user are decided one after the other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import otp
from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import audit, configuration, locking
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    AuthenticatorDisabled,
    CodeAlreadyUsed,
    CodeIncorrect,
    CodeMalformed,
    IdstoreError,
    ModalityLocked,
    PolicyNotFound,
    RegistrationExpired,
    RegistrationNotFound,
    TotpAlreadyRegistered,
    TotpNotActive,
    UnexpectedError,
    UserDisabled,
    UserLocked,
    UserNotActive,
)
from idstore.services.models import (
    AuditRecord,
    LockingPolicy,
    LockState,
    Modality,
    TotpStatus,
    User,
    UserStatus,
    UserTotp,
)
from idstore.services.rows import (
    TOTP_COLUMNS,
    find_store,
    find_user_row,
    lock_state_values,
    totp_attempt_query,
    totp_from_row,
    user_with_totps,
)
from idstore.services.users import with_lock_state

log = logging.getLogger(__name__)

# Refusals worth a second look: a replayed code, attempts against a lock.
_SUSPICIOUS = frozenset({CodeAlreadyUsed.code, UserLocked.code, ModalityLocked.code})


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
) -> TotpAuthentication:
    """Accept one code of the user's active TOTP for the policy.

    Raises UserDisabled (2102), UserLocked (2100), UserNotActive (502), PolicyNotFound (3200),
    RegistrationNotFound (3300), AuthenticatorDisabled (2103), TotpNotActive (3304),
    ModalityLocked (2101), CodeMalformed (3400), CodeIncorrect (3401), CodeAlreadyUsed (3402);
    each refusal is audited and carries the updated user.
    """
    async with database.transaction() as conn:
        attempt = await _Attempt.begin(
            conn, ctx, store_name=store_name, ref=ref, policy=policy_name
        )
        await attempt.check_standing(completing=False)
        drift_steps = await attempt.policy_drift_steps()
        held = await attempt.active_totp()
        step = await attempt.verify(keyring, held, code, drift_steps=drift_steps)
        return await attempt.succeed(held.totp, step, activating=False)


async def complete_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    policy_name: str,
    code: str,
) -> TotpAuthentication:
    """Activate the user's pending TOTP with a first valid code: an attempt like any other.

    Raises as `authenticate` does, with TotpAlreadyRegistered (3301) for a TOTP that is not
    pending and RegistrationExpired (3302) past the deadline, which also removes the pending TOTP.
    """
    async with database.transaction() as conn:
        attempt = await _Attempt.begin(
            conn, ctx, store_name=store_name, ref=ref, policy=policy_name
        )
        await attempt.check_standing(completing=True)
        drift_steps = await attempt.policy_drift_steps()
        held = await attempt.pending_totp()
        step = await attempt.verify(keyring, held, code, drift_steps=drift_steps)
        return await attempt.succeed(held.totp, step, activating=True)


@dataclass(frozen=True)
class _HeldTotp:
    """The TOTP under attempt with its sealed secret, which never leaves this module."""

    totp: UserTotp
    secret_sealed: bytes


@dataclass
class _Attempt:
    conn: AsyncConnection
    ctx: Context
    store_id: str
    policy_name: str
    locking_policy: LockingPolicy
    drift_steps: int | None
    user: User
    held: _HeldTotp | None

    @classmethod
    async def begin(
        cls, conn: AsyncConnection, ctx: Context, *, store_name: str, ref: UserRef, policy: str
    ) -> _Attempt:
        """Read and lock everything the attempt needs in one statement."""
        rows = (await conn.execute(totp_attempt_query(ctx, store_name, ref, policy))).all()
        if not rows:
            # Only on this error path: tell a missing store (3000) from a missing user (3100).
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            await find_user_row(conn, store_id=store.id, ref=ref)

        first = rows[0]
        totp_rows = [row for row in rows if row.totp_id is not None]
        totps = [totp_from_row(row, TOTP_COLUMNS) for row in totp_rows]
        ours = next((row for row in totp_rows if row.totp_policy_id == first.policy_id), None)
        return cls(
            conn=conn,
            ctx=ctx,
            store_id=first.store_id,
            policy_name=policy,
            locking_policy=configuration.from_json(first.store_configuration).user_locking,
            drift_steps=first.policy_drift_steps,
            user=user_with_totps(first, totps, ctx.now),
            held=None
            if ours is None
            else _HeldTotp(totp_from_row(ours, TOTP_COLUMNS), ours.totp_secret_sealed),
        )

    async def check_standing(self, *, completing: bool) -> None:
        """The user may attempt at all: not disabled, not locked, active (or enrolling)."""
        if self.user.admin_status is UserStatus.DISABLED:
            raise await self.refuse(UserDisabled())
        if locking.user_lock_holds(self.user.lock_state, self.ctx.now):
            raise await self.refuse(UserLocked())
        if self.user.admin_status is UserStatus.PENDING_ACTIVE and not completing:
            raise await self.refuse(UserNotActive())

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
            totp_id = held.totp.id
            await self.conn.execute(
                delete(tables.user_totps).where(tables.user_totps.c.id == totp_id)
            )
            self.user = replace(
                self.user, totps=tuple(t for t in self.user.totps if t.id != totp_id)
            )
            raise await self.refuse(RegistrationExpired())
        return held

    async def verify(
        self, keyring: KeyRing, held: _HeldTotp, code: str, *, drift_steps: int
    ) -> int:
        """The time step the code proves, newer than any step accepted before."""
        totp = held.totp
        if locking.modality_lock_holds(self.user.lock_state, Modality.TOTP, self.ctx.now):
            raise await self.refuse(ModalityLocked())
        try:
            normalized = otp.normalize_code(code, digits=totp.digits)
        except otp.MalformedCode:
            raise await self.refuse(CodeMalformed()) from None

        steps = otp.matching_steps(
            await self._open_secret(keyring, held),
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

    async def _open_secret(self, keyring: KeyRing, held: _HeldTotp) -> bytes:
        try:
            return keyring.open(held.secret_sealed, context=held.totp.id)
        except SealBroken:
            # Fail closed, and leave a trace: an altered secret never reads as a wrong code.
            log.error("secret.unseal_failed", extra={"totp_id": held.totp.id}, exc_info=True)
            raise await self.refuse(UnexpectedError()) from None

    async def succeed(self, totp: UserTotp, step: int, *, activating: bool) -> TotpAuthentication:
        now = self.ctx.now
        used = replace(
            totp, last_used_step=step, last_authenticated_with_dtm=now, last_updated_dtm=now
        )
        if activating:
            used = replace(used, status=TotpStatus.ACTIVE, activated_dtm=now, expiration_dtm=None)

        # One conditional UPDATE decides: a check in Python would let two servers accept one code.
        expected = TotpStatus.PENDING if activating else TotpStatus.ACTIVE
        columns = tables.user_totps.c
        accepted = await self.conn.execute(
            update(tables.user_totps)
            .where(
                columns.id == totp.id,
                columns.status == str(expected),
                columns.last_used_step < step,
            )
            .values(_used_values(used))
        )
        if accepted.rowcount != 1:
            raise await self._lost_race(totp.id, activating=activating)

        state = locking.after_success(self.user.lock_state, Modality.TOTP, now)
        await self.conn.execute(
            update(tables.users)
            .where(tables.users.c.id == self.user.id)
            .values(**lock_state_values(state), last_successful_authentication_dtm=now)
        )
        record = await self._audit(used, error=None)
        log.info("totp.activated" if activating else "totp.accepted", extra=self._log_fields())

        user = replace(
            with_lock_state(self.user, state, now),
            last_successful_authentication_dtm=now,
            totps=tuple(used if t.id == used.id else t for t in self.user.totps),
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
            await self.conn.execute(
                select(tables.user_totps).where(tables.user_totps.c.id == totp_id)
            )
        ).first()
        current = None if row is None else totp_from_row(row)
        kept = (current if t.id == totp_id else t for t in self.user.totps)
        self.user = replace(self.user, totps=tuple(t for t in kept if t is not None))
        if row is None or current is None:
            return await self.refuse(RegistrationNotFound())
        self.held = _HeldTotp(current, row.secret_sealed)
        if current.status is TotpStatus.DISABLED:
            return await self.refuse(AuthenticatorDisabled())
        if activating and current.status is TotpStatus.ACTIVE:
            return await self.refuse(TotpAlreadyRegistered())
        return await self.refuse(CodeAlreadyUsed(), counts=True)

    async def refuse(self, error: IdstoreError, *, counts: bool = False) -> IdstoreError:
        """Count the failure if it is a wrong proof, audit it, commit, and return the error.

        The commit comes before the error is raised, so no failure is ever rolled back with it.
        """
        user = self.user
        if counts:
            state = locking.after_failure(
                self.locking_policy, user.lock_state, Modality.TOTP, self.ctx.now
            )
            await self.conn.execute(
                update(tables.users)
                .where(tables.users.c.id == user.id)
                .values(lock_state_values(state))
            )
            _log_locks_engaged(user, state, self.ctx.now)
            user = with_lock_state(user, state, self.ctx.now)

        await self._audit(None if self.held is None else self.held.totp, error=error)
        await self.conn.commit()
        log.log(
            logging.WARNING if error.code in _SUSPICIOUS else logging.INFO,
            "totp.refused",
            extra={**self._log_fields(), "error_code": error.code, "counted": counts},
        )
        return error.with_user(user)

    def _log_fields(self) -> dict[str, object]:
        return {
            "store_id": self.store_id,
            "user_id": self.user.id,
            "policy": self.policy_name,
            "totp_id": None if self.held is None else self.held.totp.id,
        }

    async def _audit(self, totp: UserTotp | None, *, error: IdstoreError | None) -> AuditRecord:
        return await audit.record(
            self.conn,
            self.ctx,
            store_id=self.store_id,
            user_id=self.user.id,
            modality=Modality.TOTP,
            error=error,
            details=audit.totp_details(totp, policy_name=self.policy_name),
        )


def _log_locks_engaged(user: User, state: LockState, now: datetime) -> None:
    """A WARNING when this failure locked the modality or the user."""
    was_locked = locking.modality_lock_holds(user.lock_state, Modality.TOTP, now)
    if not was_locked and locking.modality_lock_holds(state, Modality.TOTP, now):
        log.warning("lock.engaged", extra={"user_id": user.id, "modality": str(Modality.TOTP)})
    if not locking.user_lock_holds(user.lock_state, now) and locking.user_lock_holds(state, now):
        log.warning("lock.engaged", extra={"user_id": user.id, "lock": str(state.lock_kind)})


def _used_values(totp: UserTotp) -> dict[str, Any]:
    return {
        "status": str(totp.status),
        "last_used_step": totp.last_used_step,
        "last_authenticated_with_dtm": totp.last_authenticated_with_dtm,
        "last_updated_dtm": totp.last_updated_dtm,
        "activated_dtm": totp.activated_dtm,
        "expiration_dtm": totp.expiration_dtm,
    }
