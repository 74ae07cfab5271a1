"""Completing a passkey ceremony (spec §9, §6, §7; issue 7 rules 2-6): a sign-in, or a
registration, whose completion is an authentication attempt as a TOTP registration's is.

The session is used up first (a DELETE whose row count decides, so that of two completions of
one challenge only one goes on). Then the attempt runs as one of the Passkey modality under the
user's row lock (services/attempts.py): the user's standing, the modality lock and the attempt
rate, then the assertion or the new credential. Every outcome is one audit record of type
Passkey; wrong proofs and the failures the client reports (397) count towards the locks as wrong
TOTP codes do, while refusals that prove nothing wrong (a disabled passkey, a cancelled or timed
out ceremony) do not.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import metrics
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.attempts import Attempt
from idstore.services.ceremony_sessions import REGISTRATION
from idstore.services.context import Context, UserRef
from idstore.services.errors import IdstoreError
from idstore.services.models import JsonObject, Modality, PasskeyStatus, User, UserPasskey
from idstore.services.passkey_configs import open_session
from idstore.services.passkey_credentials import insert_passkey, is_registered
from idstore.services.passkey_errors import (
    ClientFailed,
    CredentialAlreadyRegistered,
    CredentialNotAllowed,
    PasskeyNotActive,
    PasskeyNotFound,
    PasskeyOfAnotherUser,
    SignCountNotIncreased,
    UserHandleMismatch,
    UserHandleTaken,
)
from idstore.services.passkey_sessions import Completion, SessionState
from idstore.services.passkey_user_handles import claim
from idstore.services.rows import find_store, passkey_from_row
from idstore.services.throttle import AttemptRate
from idstore.services.webauthn_terms import Expected, VerifiedAssertion, client_response_of

if TYPE_CHECKING:
    from idstore.services.webauthn_checks import Assertion

_PASSKEYS = tables.user_passkeys
_Judged = TypeVar("_Judged")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PasskeyAuthentication:
    """An assertion accepted: the updated user and passkey, and the audit record's id."""

    user: User
    passkey: UserPasskey
    authentication_id: str


async def complete(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ceremony: str,
    completion: Completion,
    rate: AttemptRate,
) -> PasskeyAuthentication:
    """Judge the browser's answer for the session of the ceremony (REGISTRATION: keep the new
    passkey; AUTHENTICATION: accept the assertion). The session is used up whatever happens.

    Before the user is known: 3000; 9011 (session unknown or used, configuration or policy
    gone); 384, 386, 388 (session); in discoverable sign-in also 3606, 395, 397, 398, 403, 352,
    3604 (response) and 362 (no such passkey), logged and counted but unaudited as they name no
    user (_note_unattributed). Then, audited
    with the updated user: 3606 (late), 2102, 2100, 502 (sign-in only), 2101, 9005; 397
    (counted), 395, 398, 403 (not counted). A registration then: the refusals of
    webauthn_checks.verify_registration, 3605 (registered already) and 3608 (the user handle
    another user's), neither counted. A sign-in:
    362, 363, 364, 365, 348, and the refusals of webauthn_checks.verify_assertion (352, 353,
    354, 382, 383, 3601, 3604, 372).
    """
    # Here, not at the top: py_webauthn loads on the first passkey request (webauthn_terms).
    from idstore.services.webauthn_checks import parse_assertion

    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        # A discoverable sign-in's assertion is read before the user is known, once.
        assertion: Assertion | None = None
        try:
            state, expected = await open_session(
                conn, keyring, store_id=store.id, ceremony=ceremony, completion=completion
            )
            user_id = state.user_id
            if user_id is None:  # a discoverable sign-in: the passkey names the user
                state.check_live(ctx.now)
                assertion = parse_assertion(
                    client_response_of(completion.client_response, completion.client_failure)
                )
                user_id = await _discovered_user(conn, store.id, state, assertion)
        except IdstoreError as refusal:
            await conn.commit()  # the session stays used up: a refused answer cannot retry it
            _note_unattributed(store.id, ceremony, refusal, assertion)
            raise

        attempt = await PasskeyAttempt.for_locked_user(
            conn, ctx, keyring, store, UserRef.by_id(user_id), rate, state=state
        )
        await attempt.check_session_live()
        if ceremony == REGISTRATION:
            return await attempt.register(completion, expected)
        await attempt.check_standing(enrolling=False)
        await attempt.check_modality()
        if assertion is None:
            assertion = await attempt.judge_response(completion, parse_assertion)
        passkey_row = await attempt.passkey_for(assertion)
        verified = await attempt.verify(assertion, passkey_row, expected)
        return await attempt.accept(passkey_row, verified)


def _note_unattributed(
    store_id: str, ceremony: str, refusal: IdstoreError, assertion: Assertion | None
) -> None:
    """Log and count a refusal made before any user is known: the audit table holds records of
    users only, so this line (with the request's id, as every line has) and the metric are what
    an auditor finds of it. A credential naming no stored passkey is a warning, as someone may
    be trying credentials; the rest are what stale or broken clients send. No secret is logged:
    the credential id is public, the response itself never appears."""
    log.log(
        logging.WARNING if isinstance(refusal, PasskeyNotFound) else logging.INFO,
        "passkey.refused_unattributed",
        extra={
            "store_id": store_id,
            "ceremony": ceremony,
            "error_code": refusal.code,
            "credential_id": None if assertion is None else assertion.credential_id,
        },
    )
    metrics.UNATTRIBUTED_REFUSALS.labels(str(Modality.PASSKEY), ceremony, str(refusal.code)).inc()


async def _discovered_user(
    conn: AsyncConnection, store_id: str, state: SessionState, assertion: Assertion
) -> str:
    """The owner of the passkey a discoverable sign-in's assertion names (else 362)."""
    passkey_row = await _passkey_row(conn, store_id, state.rp_id, assertion)
    if passkey_row is None:
        raise PasskeyNotFound()
    return str(passkey_row.user_id)


async def _passkey_row(
    conn: AsyncConnection, store_id: str, rp_id: str, assertion: Assertion
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(_PASSKEYS).where(
                _PASSKEYS.c.store_id == store_id,
                _PASSKEYS.c.rp_id == rp_id,
                _PASSKEYS.c.credential_id == assertion.credential_id,
            )
        )
    ).first()


@dataclass(kw_only=True)
class PasskeyAttempt(Attempt):
    """One attempt of the Passkey modality: a sign-in, or a registration's completion."""

    modality: ClassVar[Modality] = Modality.PASSKEY
    event: ClassVar[str] = "passkey"

    state: SessionState
    passkey: UserPasskey | None = None

    def audit_details(self) -> JsonObject:
        info: JsonObject = {
            "rpId": self.state.rp_id,
            "policyName": self.state.policy_name,
            "ceremony": self.state.ceremony,
        }
        if self.passkey is not None:
            info.update(id=self.passkey.id, credentialId=self.passkey.credential_id)
        return {"passkeyInfo": info}

    def log_fields(self) -> dict[str, object]:
        passkey_id = None if self.passkey is None else self.passkey.id
        return {
            **super().log_fields(),
            "rp_id": self.state.rp_id,
            "ceremony": self.state.ceremony,
            "passkey_id": passkey_id,
        }

    async def check_session_live(self) -> None:
        """A late completion (3606) is audited and counted nowhere, as an expired TOTP
        registration is."""
        try:
            self.state.check_live(self.ctx.now)
        except IdstoreError as error:
            raise await self.refuse(error) from None

    async def judge_response(
        self, completion: Completion, judge: Callable[[dict[str, Any]], _Judged]
    ) -> _Judged:
        """The client's response as `judge` reads it, or the refusal of the failure the client
        reported instead: 397 (it failed: a recorded client failure, spec §6) counts, as appkeys
        count 1104; 398 and 403 (cancelled, timed out: no proof was tried) and 395 (neither
        sent) are audited only, as appkeys treat 1105 and 1115. A response `judge` refuses
        counts."""
        try:
            response = client_response_of(completion.client_response, completion.client_failure)
        except IdstoreError as error:
            raise await self.refuse(error, counts=isinstance(error, ClientFailed)) from None
        try:
            return judge(response)
        except IdstoreError as error:
            raise await self.refuse(error, counts=True) from None

    async def passkey_for(self, assertion: Assertion) -> Row[Any]:
        """The passkey the assertion names, if this session may use it (362-365, 348)."""
        state = self.state
        row = await _passkey_row(self.conn, self.store_id, state.rp_id, assertion)
        if row is None:
            raise await self.refuse(PasskeyNotFound(), counts=True)
        self.passkey = passkey_from_row(row)
        if row.user_id != self.user.id:
            raise await self.refuse(PasskeyOfAnotherUser(), counts=True)
        if state.user_id is not None and assertion.credential_id not in state.allowed_credentials:
            raise await self.refuse(CredentialNotAllowed(), counts=True)
        await self._check_user_handle(assertion, row.user_handle)
        if self.passkey.status is not PasskeyStatus.ACTIVE:
            raise await self.refuse(PasskeyNotActive())
        return row

    async def _check_user_handle(self, assertion: Assertion, owner_handle: str) -> None:
        # With allowCredentials the browser may leave the handle out: the credential names the
        # user. Discoverable sign-in has only the handle to name the user, so it must be there.
        handle = assertion.user_handle
        if handle is None and self.state.user_id is not None:
            return
        if not handle or not hmac.compare_digest(handle, owner_handle):
            raise await self.refuse(UserHandleMismatch(), counts=True)

    async def verify(
        self, assertion: Assertion, row: Row[Any], expected: Expected
    ) -> VerifiedAssertion:
        from idstore.services.webauthn_checks import verify_assertion  # loaded on first use

        try:
            return verify_assertion(
                assertion,
                expected,
                public_key=row.public_key,
                stored_sign_count=row.sign_count,
                backup_eligible=row.backup_eligible,
            )
        except IdstoreError as error:
            raise await self.refuse(error, counts=True) from None

    async def accept(self, row: Row[Any], verified: VerifiedAssertion) -> PasskeyAuthentication:
        now, new_count = self.ctx.now, verified.sign_count
        # One conditional UPDATE decides: the counter only ever goes up (or stays 0 after 0).
        counter_moves = (_PASSKEYS.c.sign_count < new_count) | (
            (_PASSKEYS.c.sign_count == 0) & (new_count == 0)
        )
        accepted = await self.conn.execute(
            update(_PASSKEYS)
            .where(
                _PASSKEYS.c.store_id == self.store_id,
                _PASSKEYS.c.id == row.id,
                _PASSKEYS.c.status == str(PasskeyStatus.ACTIVE),
                counter_moves,
            )
            .values(
                sign_count=new_count,
                backup_state=verified.backup_state,
                last_authenticated_with_dtm=now,
                last_updated_dtm=now,
            )
        )
        if accepted.rowcount != 1:
            raise await self.refuse(SignCountNotIncreased(), counts=True)

        assert self.passkey is not None  # noqa: S101  # set by passkey_for
        used = replace(
            self.passkey,
            sign_count=new_count,
            backup_state=verified.backup_state,
            last_authenticated_with_dtm=now,
            last_updated_dtm=now,
        )
        self.passkey = used
        self.user = replace(
            self.user, passkeys=tuple(used if p.id == used.id else p for p in self.user.passkeys)
        )
        record = await self.succeed()
        return PasskeyAuthentication(user=self.user, passkey=used, authentication_id=record.id)

    async def claim_user_handle(self) -> None:
        """The session's user handle made the user's for the relying party (3608, uncounted,
        when another user's registration with the same handle completed first)."""
        handle = self.state.user_handle
        assert handle is not None  # noqa: S101  # registration sessions always carry one
        if not await claim(
            self.conn,
            store_id=self.store_id,
            user_id=self.user.id,
            rp_id=self.state.rp_id,
            handle=handle,
        ):
            raise await self.refuse(UserHandleTaken())

    async def register(self, completion: Completion, expected: Expected) -> PasskeyAuthentication:
        """A registration's completion, an attempt as a TOTP registration's is: the new passkey
        kept, counters reset, audited, committed."""
        from idstore.services.webauthn_checks import parse_registration, verify_registration

        await self.check_standing(enrolling=True)
        await self.check_modality()
        credential = await self.judge_response(
            completion, lambda response: verify_registration(parse_registration(response), expected)
        )
        if await is_registered(self.conn, self.store_id, self.state.rp_id, credential):
            raise await self.refuse(CredentialAlreadyRegistered())
        await self.claim_user_handle()
        passkey = await insert_passkey(self.conn, self.ctx, self.store_id, self.state, credential)
        self.passkey = passkey
        self.user = replace(self.user, passkeys=(*self.user.passkeys, passkey))
        record = await self.succeed()
        return PasskeyAuthentication(user=self.user, passkey=passkey, authentication_id=record.id)
