"""Completing an appkey ceremony (spec §10): a registration or a sign-in by session (INTERNAL
`sessionId` or EXTERNAL `sessionData`), or a single-shot sign-in with no session at all.

A session is used up first (a DELETE whose row count decides, so that of two completions of one
challenge only one goes on), and stays used up whatever follows. Then the attempt runs under
the user's row lock (appkey_attempts). Refusals before the user is known (no session, a key no
user holds, a malformed message in a sign-in that names no user) name nobody to audit and are
not audited; every later one is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import uaf
from idstore.crypto.keyring import KeyRing
from idstore.db.engine import Database
from idstore.services import appkey_sessions
from idstore.services.appkey_attempts import (
    SINGLE_SHOT,
    AppkeyAttempt,
    AppkeyAuthentication,
    AttemptScope,
    key_rows,
)
from idstore.services.appkey_checks import client_response_of, from_uaf
from idstore.services.appkey_configs import authentication_policy, find_config, registration_policy
from idstore.services.appkey_errors import (
    AppkeyNotFound,
    AppkeySessionDataMissing,
    AppkeySessionPolicyGone,
    AppkeySessionRelyingPartyGone,
    AuthenticationResponseMalformed,
)
from idstore.services.appkey_facets import app_id_of
from idstore.services.appkey_registrations import register
from idstore.services.appkey_sessions import AppkeySession
from idstore.services.ceremony_sessions import AUTHENTICATION, REGISTRATION
from idstore.services.context import Context, UserRef
from idstore.services.errors import IdstoreError, ResourceNotFound
from idstore.services.models import AppkeyConfig, AppkeyType
from idstore.services.rows import find_store
from idstore.services.throttle import AttemptRate

_MALFORMED = AuthenticationResponseMalformed
_Policy = TypeVar("_Policy")


@dataclass(frozen=True)
class AppkeyCompletion:
    """What a completion request carries: the session (by id or sealed data), and the UAF
    response or the failure the client reported instead, as the client sent them."""

    session_id: str | None
    session_data: str | None
    client_response: object
    client_failure: object


async def complete_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    completion: AppkeyCompletion,
    rate: AttemptRate,
) -> AppkeyAuthentication:
    """Judge the RegistrationResponse for the session and keep the new key.

    Before the user is known: 3000; 9011 (session unknown or used); 1009, 1011, 1012, 1014,
    1055, 1056. Then, audited: 3720 (late) and the refusals of appkey_registrations.register.
    """
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        try:
            session = await _session(conn, keyring, store.id, REGISTRATION, completion)
            config = await _config_of(conn, store.id, session)
            policy = _policy(lambda: registration_policy(config, session.policy_name))
        except IdstoreError:
            await conn.commit()  # the session stays used up: a refused answer cannot retry it
            raise

        assert session.user_id is not None  # noqa: S101  # registrations are for a user
        scope = AttemptScope(session.rp_id, session.policy_name, REGISTRATION, session)
        attempt = await AppkeyAttempt.for_locked_user(
            conn, ctx, keyring, store, UserRef.by_id(session.user_id), rate, scope=scope
        )
        await attempt.check_session_live()
        return await register(
            attempt,
            config,
            policy,
            client_response=completion.client_response,
            client_failure=completion.client_failure,
        )


async def complete_authentication(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    completion: AppkeyCompletion,
    rate: AttemptRate,
) -> AppkeyAuthentication:
    """Judge the AuthenticationResponse for the session.

    Before the user is known: 3000; 9011; 1009, 1011, 1012, 1014, 1055, 1056; for a session
    that names no user also 3720, 1115, 1102, 1104, 1105, 1091-1093, 1017 and 1058. Then,
    audited with the updated user: 3720, 2102, 2100, 502, 2101, 9005; the client's failure
    (1104 counted; 1105, 1102, 1115 not); the response (1091-1093, 1017, 3717, 1026, 1029,
    3718); the key (1058, 1059, 1060, 1035); 3710, 3723 (transaction not confirmed) and 1061.
    """
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        try:
            session = await _session(conn, keyring, store.id, AUTHENTICATION, completion)
            config = await _config_of(conn, store.id, session)
            policy = _policy(lambda: authentication_policy(config, session.policy_name))
            user_id = session.user_id
            if user_id is None:  # a sign-in for any key: the key names the user
                session.check_live(ctx.now)
                user_id = await _owner(conn, store.id, session.rp_id, completion)
        except IdstoreError:
            await conn.commit()  # the session stays used up: a refused answer cannot retry it
            raise

        scope = AttemptScope(session.rp_id, session.policy_name, AUTHENTICATION, session)
        attempt = await AppkeyAttempt.for_locked_user(
            conn, ctx, keyring, store, UserRef.by_id(user_id), rate, scope=scope
        )
        await attempt.check_session_live()
        await attempt.check_standing(enrolling=False)
        await attempt.check_modality()
        answer = await attempt.client_response(
            completion.client_response, completion.client_failure
        )
        response = await attempt.judge(
            lambda: uaf.read_authentication_response(answer), malformed=_MALFORMED
        )
        return await _signed_in(attempt, config, response, session, policy.key_types)


async def _signed_in(
    attempt: AppkeyAttempt,
    config: AppkeyConfig,
    response: uaf.AuthenticationResponse,
    session: AppkeySession,
    allowed_types: tuple[AppkeyType, ...],
) -> AppkeyAuthentication:
    assertion = await attempt.judge(
        lambda: uaf.check_authentication(
            response,
            app_id=app_id_of(config.rp_id),
            challenge=session.challenge,
            trusted_facets=config.trusted_facets,
        ),
        malformed=_MALFORMED,
    )
    row = await attempt.key_for(assertion, allowed_types)
    await attempt.verify(assertion, row)
    await attempt.check_transaction(assertion)
    return await attempt.accept(row, assertion.sign_counter)


async def complete_single_shot(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    client_response: object,
    rate: AttemptRate,
) -> AppkeyAuthentication:
    """Judge a single-shot AuthenticationResponse: no session; the challenge is the client's
    clock, accepted within the relying party's `singleShotWindowSeconds` and once per key.

    Before the user is known: 3000; 1009 (no response either), 1091-1093, 1017, 1058; 9011 (the
    key's relying party has no configuration). Then, audited with the updated user: 2102, 2100,
    502, 2101, 9005; 3717, 1026, 3718; 1091 (not a time), 1090 (outside the window, counted);
    1060; 3710; 1090 (accepted before, counted); 1061.
    """
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        if client_response is None:
            raise AppkeySessionDataMissing("give sessionData, or a single-shot clientResponse")
        response = _read_authentication(client_response)
        key_row = await _single_shot_key(conn, store.id, response)
        config = await find_config(conn, store_id=store.id, rp_id=key_row.rp_id)

        scope = AttemptScope(key_row.rp_id, None, SINGLE_SHOT)
        attempt = await AppkeyAttempt.for_locked_user(
            conn, ctx, keyring, store, UserRef.by_id(key_row.user_id), rate, scope=scope
        )
        await attempt.check_standing(enrolling=False)
        await attempt.check_modality()
        assertion = await attempt.judge(
            lambda: uaf.check_authentication(
                response,
                app_id=app_id_of(config.rp_id),
                challenge=None,
                trusted_facets=config.trusted_facets,
            ),
            malformed=_MALFORMED,
        )
        window = config.single_shot_window_seconds
        signed_at = await attempt.judge(
            lambda: uaf.single_shot_time(assertion.challenge, now=ctx.now, window_seconds=window),
            malformed=_MALFORMED,
        )
        row = await attempt.key_for(assertion, None)
        await attempt.verify(assertion, row)
        # Kept in its one canonical spelling, so that no other spelling of the time passes.
        challenge = uaf.single_shot_challenge(signed_at)
        await attempt.check_single_shot_unused(row, challenge)
        return await attempt.accept(row, assertion.sign_counter, single_shot=challenge)


async def _session(
    conn: AsyncConnection,
    keyring: KeyRing,
    store_id: str,
    ceremony: str,
    completion: AppkeyCompletion,
) -> AppkeySession:
    return await appkey_sessions.consume(
        conn,
        keyring,
        store_id=store_id,
        ceremony=ceremony,
        session_id=completion.session_id,
        session_data=completion.session_data,
    )


async def _config_of(conn: AsyncConnection, store_id: str, session: AppkeySession) -> AppkeyConfig:
    """The session's relying party's configuration as it is now (1012 when it is gone)."""
    try:
        return await find_config(conn, store_id=store_id, rp_id=session.rp_id)
    except ResourceNotFound:
        raise AppkeySessionRelyingPartyGone() from None


def _policy(find: Callable[[], _Policy]) -> _Policy:
    """The session's policy as configured now (1055 when it is gone)."""
    try:
        return find()
    except ResourceNotFound:
        raise AppkeySessionPolicyGone() from None


async def _owner(
    conn: AsyncConnection, store_id: str, rp_id: str, completion: AppkeyCompletion
) -> str:
    """The owner of the key a sign-in without a user names (else 1058)."""
    answer = client_response_of(completion.client_response, completion.client_failure)
    assertion = _read_authentication(answer).assertion
    rows = await key_rows(
        conn, store_id, assertion.aaid, uaf.b64url_encode(assertion.key_id), rp_id
    )
    if not rows:
        raise AppkeyNotFound()
    return str(rows[0].user_id)


def _read_authentication(client_response: object) -> uaf.AuthenticationResponse:
    try:
        return uaf.read_authentication_response(client_response)
    except uaf.UafError as error:
        raise from_uaf(error, malformed=_MALFORMED) from None


async def _single_shot_key(
    conn: AsyncConnection, store_id: str, response: uaf.AuthenticationResponse
) -> Row[Any]:
    """The key a single-shot response names: by AAID and KeyID, of the relying party whose
    AppID it claims when the store has that key for several (else 1058)."""
    assertion = response.assertion
    rows = await key_rows(conn, store_id, assertion.aaid, uaf.b64url_encode(assertion.key_id))
    claimed = response.final_challenge.app_id
    matching = [row for row in rows if app_id_of(row.rp_id) == claimed] or rows
    if not matching:
        raise AppkeyNotFound()
    return matching[0]
