"""One authentication attempt, of any modality, decided under the user's row lock.

A modality's attempt (TOTP today; passkeys, appkeys and faces after it) starts from one locking
read of the user, then checks the user's standing, the modality's lock and the user's attempt
rate in that order, judges its proof, and ends in `refuse` (counted when the proof was wrong,
audited always, committed before the error is raised) or `succeed` (counters reset, audited,
committed). Log lines and metrics follow the commit, so they never tell of a rolled-back attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy import Row, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import metrics
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.hot import HotWrites
from idstore.services import audit, audit_chain, configuration, locking, throttle
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    CodeAlreadyUsed,
    IdstoreError,
    ModalityLocked,
    TooManyRequests,
    UserDisabled,
    UserLocked,
    UserNotActive,
)
from idstore.services.models import (
    AuditRecord,
    JsonObject,
    LockingPolicy,
    LockState,
    Modality,
    User,
    UserStatus,
)
from idstore.services.rows import LOCK_STATE_COLUMNS, find_user_row, lock_state_values, reload_user
from idstore.services.throttle import AttemptRate
from idstore.services.users import with_lock_state

log = logging.getLogger(__name__)

# Refusals worth a second look: a replayed proof, attempts against a lock, a flood.
_SUSPICIOUS = frozenset(
    {CodeAlreadyUsed.code, UserLocked.code, ModalityLocked.code, TooManyRequests.code}
)


_CHAIN_HEAD_COLUMNS = ("audit_chain_head", "audit_chain_length", "audit_chain_seal")


def _user_update(*columns: str) -> Update:
    return (
        update(tables.users)
        .where(
            tables.users.c.store_id == bindparam("b_store_id"),
            tables.users.c.id == bindparam("b_user_id"),
        )
        .values({column: bindparam(column) for column in columns})
    )


# Built once, one for each way an attempt ends: the user row's counters and chain head, and the
# audit record, in one round trip on PostgreSQL.
_REFUSAL_WRITES = HotWrites(
    _user_update(*LOCK_STATE_COLUMNS, *_CHAIN_HEAD_COLUMNS), audit.RECORD_INSERT
)
_SUCCESS_WRITES = HotWrites(
    _user_update(*LOCK_STATE_COLUMNS, *_CHAIN_HEAD_COLUMNS, "last_successful_authentication_dtm"),
    audit.RECORD_INSERT,
)


@dataclass(kw_only=True)
class Attempt:
    """The state every modality's attempt shares. Subclasses name the modality and describe
    what the audit record and log lines say about the authenticator."""

    modality: ClassVar[Modality]
    event: ClassVar[str]

    conn: AsyncConnection
    ctx: Context
    store_id: str
    locking_policy: LockingPolicy
    user: User
    rate: AttemptRate
    keyring: KeyRing

    @classmethod
    async def for_locked_user(
        cls,
        conn: AsyncConnection,
        ctx: Context,
        keyring: KeyRing,
        store: Row[Any],
        ref: UserRef,
        rate: AttemptRate,
        **fields: Any,
    ) -> Self:
        """An attempt on the store's user: its row locked, the user read as it is under that
        lock, the store's locking policy; `fields` are the subclass's own. Raises 3100."""
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        return cls(
            conn=conn,
            ctx=ctx,
            store_id=store.id,
            locking_policy=configuration.from_json(store.configuration).user_locking,
            user=await reload_user(conn, user_row, ctx.now),
            rate=rate,
            keyring=keyring,
            **fields,
        )

    def audit_details(self) -> JsonObject:
        raise NotImplementedError

    def log_fields(self) -> dict[str, object]:
        return {"store_id": self.store_id, "user_id": self.user.id}

    async def check_standing(self, *, enrolling: bool) -> None:
        """The user may attempt at all: not disabled, not locked, active (or enrolling)."""
        if self.user.admin_status is UserStatus.DISABLED:
            raise await self.refuse(UserDisabled())
        if locking.user_lock_holds(self.user.lock_state, self.ctx.now):
            raise await self.refuse(UserLocked())
        if self.user.admin_status is UserStatus.PENDING_ACTIVE and not enrolling:
            raise await self.refuse(UserNotActive())

    async def check_modality(self) -> None:
        """The modality is not locked, and the user has an attempt left (else 2101, 429)."""
        now = self.ctx.now
        if locking.modality_lock_holds(self.user.lock_state, self.modality, now):
            raise await self.refuse(ModalityLocked())

        taken = throttle.take_attempt(self.user.lock_state, self.rate, now)
        if taken is None:
            wait = throttle.seconds_until_next(self.user.lock_state, self.rate, now)
            raise await self.refuse(
                TooManyRequests(
                    "too many attempts for this user; retry later", retry_after_seconds=wait
                )
            )
        self.user = with_lock_state(self.user, taken, now)

    async def succeed(self) -> AuditRecord:
        """Reset the counters, note the success on the user, audit it, commit."""
        now = self.ctx.now
        state = locking.after_success(self.user.lock_state, self.modality, now)
        record, record_values = self._audit_record(error=None)
        head = self._chain_head(record)
        await _SUCCESS_WRITES.run(
            self.conn,
            {
                **record_values,
                **lock_state_values(state),
                **head,
                "last_successful_authentication_dtm": now,
                "b_store_id": self.store_id,
                "b_user_id": self.user.id,
            },
        )
        self.user = with_lock_state(
            self.user,
            state,
            now,
            last_successful_authentication_dtm=now,
            audit_chain_head=record.chain_hash,
            audit_chain_length=head["audit_chain_length"],
        )
        # A success is the attempt's last write: committed here, so that it is logged and
        # counted only once it holds.
        await self.conn.commit()
        if log.isEnabledFor(logging.INFO):  # the fields cost more than the call when it is off
            log.info(f"{self.event}.accepted", extra=self.log_fields())
        metrics.authentications(self.modality, "SUCCESS", "0").inc()
        return record

    async def refuse(self, error: IdstoreError, *, counts: bool = False) -> IdstoreError:
        """Count the failure if it is a wrong proof, audit it, commit, and return the error.

        The commit comes before the error is raised, so no failure is ever rolled back with it.
        """
        state, engaged = self.user.lock_state, []
        if counts:
            state = locking.after_failure(self.locking_policy, state, self.modality, self.ctx.now)
            engaged = self._locks_engaged(state)

        # The user row takes the counters and the audit chain's new head as the record is written.
        record, record_values = self._audit_record(error=error)
        head = self._chain_head(record)
        await _REFUSAL_WRITES.run(
            self.conn,
            {
                **record_values,
                **lock_state_values(state),
                **head,
                "b_store_id": self.store_id,
                "b_user_id": self.user.id,
            },
        )
        user = with_lock_state(
            self.user,
            state,
            self.ctx.now,
            audit_chain_head=record.chain_hash,
            audit_chain_length=head["audit_chain_length"],
        )
        await self.conn.commit()

        # Logged and counted once committed: a metric never counts what was rolled back.
        level = logging.WARNING if error.code in _SUSPICIOUS else logging.INFO
        if log.isEnabledFor(level):  # the fields cost more than the call when it is off
            log.log(
                level,
                f"{self.event}.refused",
                extra={**self.log_fields(), "error_code": error.code, "counted": counts},
            )
        metrics.authentications(self.modality, "FAILURE", str(error.code)).inc()
        for lock in engaged:
            log.warning("lock.engaged", extra={**self.log_fields(), "lock": lock})
            metrics.locks(lock).inc()
        return error.with_user(user)

    def _chain_head(self, record: AuditRecord) -> dict[str, Any]:
        """The user row's new chain head: the record's hash, the length, their seal."""
        length = self.user.audit_chain_length + 1
        head = str(record.chain_hash)
        seal = audit_chain.seal_head(
            self.keyring,
            self.keyring.current_key_id,
            user_id=self.user.id,
            length=length,
            head=head,
        )
        return {"audit_chain_head": head, "audit_chain_length": length, "audit_chain_seal": seal}

    def _audit_record(self, *, error: IdstoreError | None) -> tuple[AuditRecord, dict[str, Any]]:
        return audit.new_record(
            self.ctx,
            self.keyring,
            store_id=self.store_id,
            user_id=self.user.id,
            modality=self.modality,
            error=error,
            details=self.audit_details(),
            previous=self.user.audit_chain_head,
        )

    def _locks_engaged(self, state: LockState) -> list[str]:
        """The locks this failure engages: of the modality, of the user (temporary or permanent)."""
        now: datetime = self.ctx.now
        before = self.user.lock_state
        engaged = []
        if not locking.modality_lock_holds(before, self.modality, now) and (
            locking.modality_lock_holds(state, self.modality, now)
        ):
            engaged.append(f"modality:{self.modality}")
        if not locking.user_lock_holds(before, now) and locking.user_lock_holds(state, now):
            engaged.append(f"user:{state.lock_kind}")
        return engaged
