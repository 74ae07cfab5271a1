"""One attempt of the Appkey modality (spec §6, §7, §10): a sign-in with a UAF assertion (by
session or single-shot), or a registration's completion.

The attempt runs under the user's row lock (services/attempts.py): the user's standing, the
modality lock and the attempt rate, then the UAF response. Every outcome is one audit record of
type Appkey. Wrong proofs count towards the locks (a signature, challenge, facet or counter that
is wrong; a failure the client reported); refusals that prove nothing wrong (a malformed
message, a disabled key, a key type the policy refuses, a cancellation) are audited only.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import uaf
from idstore.db import tables
from idstore.services.appkey_checks import WRONG_PROOFS, client_response_of, from_uaf
from idstore.services.appkey_errors import (
    AppkeyClientFailed,
    AppkeyNotActive,
    AppkeyNotFound,
    AppkeyOfAnotherUser,
    AppkeySignCountNotIncreased,
    AppkeyTypeNotAllowed,
    AuthenticationResponseMalformed,
    SingleShotChallengeRefused,
    TransactionNotConfirmed,
)
from idstore.services.appkey_rows import appkey_from_row
from idstore.services.appkey_sessions import AppkeySession
from idstore.services.attempts import Attempt
from idstore.services.ceremony_sessions import b64url_decode
from idstore.services.errors import IdstoreError
from idstore.services.models import (
    AppkeyStatus,
    AppkeyType,
    JsonObject,
    Modality,
    User,
    UserAppkey,
)

_APPKEYS = tables.user_appkeys
_CHALLENGES = tables.appkey_single_shot_challenges
# An accepted single-shot time T was within the window W of its acceptance A; a replay at B
# needs |T - B| <= W, so B <= A + 2W. With W at most an hour, older rows can match nothing.
_SINGLE_SHOT_MEMORY = timedelta(hours=2)
SINGLE_SHOT = "SINGLE_SHOT"
_Judged = TypeVar("_Judged")


@dataclass(frozen=True)
class AppkeyAuthentication:
    """An attempt accepted: the updated user, the appkey used or made, the audit record's id."""

    user: User
    appkey: UserAppkey
    authentication_id: str


@dataclass(frozen=True)
class AttemptScope:
    """What the attempt is about before its key is known: the relying party, the policy (none
    for single-shot), the ceremony, and the session if there is one."""

    rp_id: str
    policy_name: str | None
    ceremony: str
    session: AppkeySession | None = None


async def key_rows(
    conn: AsyncConnection, store_id: str, aaid: str, key_id: str, rp_id: str | None = None
) -> list[Row[Any]]:
    """The store's keys with that AAID and KeyID (of the relying party, when given)."""
    query = select(_APPKEYS).where(
        _APPKEYS.c.store_id == store_id, _APPKEYS.c.aaid == aaid, _APPKEYS.c.key_id == key_id
    )
    if rp_id is not None:
        query = query.where(_APPKEYS.c.rp_id == rp_id)
    return list(await conn.execute(query))


@dataclass(kw_only=True)
class AppkeyAttempt(Attempt):
    """One attempt of the Appkey modality."""

    modality: ClassVar[Modality] = Modality.APPKEY
    event: ClassVar[str] = "appkey"

    scope: AttemptScope
    appkey: UserAppkey | None = None

    def audit_details(self) -> JsonObject:
        info: JsonObject = {"rpId": self.scope.rp_id, "ceremony": self.scope.ceremony}
        if self.scope.policy_name is not None:
            info["policyName"] = self.scope.policy_name
        if self.appkey is not None:
            info.update(id=self.appkey.id, keyId=self.appkey.key_id, aaid=self.appkey.aaid)
        return {"appkeyInfo": info}

    def log_fields(self) -> dict[str, object]:
        appkey_id = None if self.appkey is None else self.appkey.id
        return {
            **super().log_fields(),
            "rp_id": self.scope.rp_id,
            "ceremony": self.scope.ceremony,
            "appkey_id": appkey_id,
        }

    async def check_session_live(self) -> None:
        """A late completion (3720) is audited and counted nowhere."""
        if self.scope.session is None:
            return
        try:
            self.scope.session.check_live(self.ctx.now)
        except IdstoreError as error:
            raise await self.refuse(error) from None

    async def client_response(self, client_response: object, client_failure: object) -> object:
        """The UAF response, or the refusal of the failure the client reported instead (1104
        counted; 1105, 1102, 1115 audited only)."""
        try:
            return client_response_of(client_response, client_failure)
        except IdstoreError as error:
            raise await self.refuse(error, counts=isinstance(error, AppkeyClientFailed)) from None

    async def judge(
        self, decide: Callable[[], _Judged], *, malformed: type[IdstoreError]
    ) -> _Judged:
        """What `decide` answers; its refusals (UafError or ours) audited, counted when they
        say the proof is wrong."""
        try:
            return decide()
        except uaf.UafError as error:
            refusal = from_uaf(error, malformed=malformed)
        except IdstoreError as error:
            refusal = error
        raise await self.refuse(refusal, counts=refusal.code in WRONG_PROOFS)

    async def key_for(
        self, assertion: uaf.SignedAssertion, allowed_types: tuple[AppkeyType, ...] | None
    ) -> Row[Any]:
        """The key the assertion names, if this attempt may use it: 1058, 1059 (counted: the
        proof is not this user's), 1060, 1035 (`allowed_types` None: any type)."""
        rows = await key_rows(
            self.conn, self.store_id, assertion.aaid, assertion.key_id, self.scope.rp_id
        )
        if not rows:
            raise await self.refuse(AppkeyNotFound(), counts=True)
        row = rows[0]
        if row.user_id != self.user.id:  # audited without naming the other user's key
            raise await self.refuse(AppkeyOfAnotherUser(), counts=True)
        self.appkey = appkey_from_row(row)
        if self.appkey.status is not AppkeyStatus.ACTIVE:
            raise await self.refuse(AppkeyNotActive())
        if allowed_types is not None and self.appkey.type not in allowed_types:
            raise await self.refuse(
                AppkeyTypeNotAllowed(f"the authentication policy does not accept {row.key_type}")
            )
        return row

    async def verify(self, assertion: uaf.SignedAssertion, row: Row[Any]) -> None:
        """The signature, with the registered key (3710, counted)."""
        await self.judge(
            lambda: uaf.verify_assertion(
                assertion, public_key=row.public_key, signature_algorithm=row.signature_algorithm
            ),
            malformed=AuthenticationResponseMalformed,
        )

    async def check_transaction(self, assertion: uaf.SignedAssertion) -> None:
        """The assertion signs the hash of the session's transaction text, or none when the
        session has none (3723, counted: the user confirmed something else, or nothing)."""
        session = self.scope.session
        wanted = None if session is None else session.transaction_hash
        expected = b"" if wanted is None else b64url_decode(wanted)
        if not hmac.compare_digest(expected, assertion.transaction_content_hash):
            raise await self.refuse(TransactionNotConfirmed(), counts=True)

    async def check_single_shot_unused(self, row: Row[Any], challenge: str) -> None:
        """Refuse (1090, counted, as a replayed TOTP code is) a single-shot challenge the key had
        accepted before. Nothing is recorded here: `accept` records it with the success, so
        that a refused attempt does not use the time up."""
        await self.conn.execute(
            delete(_CHALLENGES).where(
                _CHALLENGES.c.store_id == self.store_id,
                _CHALLENGES.c.appkey_id == row.id,
                _CHALLENGES.c.accepted_dtm < self.ctx.now - _SINGLE_SHOT_MEMORY,
            )
        )
        used = await self.conn.execute(
            select(_CHALLENGES.c.appkey_id).where(
                _CHALLENGES.c.store_id == self.store_id,
                _CHALLENGES.c.appkey_id == row.id,
                _CHALLENGES.c.challenge == challenge,
            )
        )
        if used.first() is not None:
            raise await self._single_shot_replayed()

    async def accept(
        self, row: Row[Any], sign_counter: int, *, single_shot: str | None = None
    ) -> AppkeyAuthentication:
        """Store the counter with one conditional UPDATE whose row count decides (1061,
        counted), record the `single_shot` challenge as accepted for the key, then succeed."""
        now = self.ctx.now
        # The counter only ever goes up, or stays 0 after 0 (authenticators without one).
        counter_moves = (_APPKEYS.c.sign_count < sign_counter) | (
            (_APPKEYS.c.sign_count == 0) & (sign_counter == 0)
        )
        accepted = await self.conn.execute(
            update(_APPKEYS)
            .where(
                _APPKEYS.c.store_id == self.store_id,
                _APPKEYS.c.id == row.id,
                _APPKEYS.c.status == str(AppkeyStatus.ACTIVE),
                counter_moves,
            )
            .values(sign_count=sign_counter, last_authenticated_with_dtm=now, last_updated_dtm=now)
        )
        if accepted.rowcount != 1:
            raise await self.refuse(AppkeySignCountNotIncreased(), counts=True)
        if single_shot is not None:
            await self._record_single_shot(row, single_shot)

        assert self.appkey is not None  # noqa: S101  # set by key_for
        used = replace(
            self.appkey,
            sign_count=sign_counter,
            last_authenticated_with_dtm=now,
            last_updated_dtm=now,
        )
        return await self.succeed_with(used)

    async def _record_single_shot(self, row: Row[Any], challenge: str) -> None:
        # The primary key decides, so two processes cannot both accept the time; under the
        # user's row lock check_single_shot_unused has already refused a replay.
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        kept = await self.conn.execute(
            dialect.insert(_CHALLENGES)
            .values(
                appkey_id=row.id,
                challenge=challenge,
                store_id=self.store_id,
                accepted_dtm=self.ctx.now,
            )
            .on_conflict_do_nothing(index_elements=["store_id", "appkey_id", "challenge"])
        )
        if kept.rowcount != 1:
            raise await self._single_shot_replayed()

    async def _single_shot_replayed(self) -> IdstoreError:
        refusal = SingleShotChallengeRefused("the single-shot challenge was accepted before")
        return await self.refuse(refusal, counts=True)

    async def succeed_with(self, appkey: UserAppkey) -> AppkeyAuthentication:
        """Note the appkey on the user (used or new), audit the success, commit."""
        self.appkey = appkey
        known = any(key.id == appkey.id for key in self.user.appkeys)
        appkeys = tuple(appkey if key.id == appkey.id else key for key in self.user.appkeys)
        self.user = replace(self.user, appkeys=appkeys if known else (*appkeys, appkey))
        record = await self.succeed()
        return AppkeyAuthentication(user=self.user, appkey=appkey, authentication_id=record.id)
