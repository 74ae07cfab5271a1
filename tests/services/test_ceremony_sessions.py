"""The state a ceremony session seals: one encoding for every kind, read by every version.

A session started by one server may be completed by another of a different version, so the
sealed JSON keeps its names, their order and the contract's instants (milliseconds, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

from idstore.services.appkey_sessions import AppkeySession
from idstore.services.ceremony_sessions import AUTHENTICATION, REGISTRATION, encode_state
from idstore.services.passkey_sessions import SessionState

EXPIRES = datetime(2026, 12, 4, 15, 15, 40, 512345, tzinfo=UTC)


def test_a_passkey_state_is_compact_json_in_field_order_with_a_millisecond_instant() -> None:
    state = SessionState(
        session_id="s-1",
        ceremony=AUTHENTICATION,
        rp_id="example.com",
        policy_name="default",
        challenge="Y2hhbGxlbmdl",
        user_id="u-1",
        user_handle="aGFuZGxl",
        allowed_credentials=("Y3JlZC0x", "Y3JlZC0y"),
        expiration_dtm=EXPIRES,
    )

    assert encode_state(state) == (
        b'{"session_id":"s-1","ceremony":"AUTHENTICATION","rp_id":"example.com",'
        b'"policy_name":"default","challenge":"Y2hhbGxlbmdl","user_id":"u-1",'
        b'"user_handle":"aGFuZGxl","allowed_credentials":["Y3JlZC0x","Y3JlZC0y"],'
        b'"expiration_dtm":"2026-12-04T15:15:40.512Z"}'
    )


def test_an_appkey_state_keeps_its_own_names_and_absent_values_as_null() -> None:
    state = AppkeySession(
        session_id="s-2",
        ceremony=REGISTRATION,
        rp_id="example.com",
        policy_name="default",
        challenge="Y2hhbGxlbmdl",
        user_id="u-1",
        device_id="d-1",
        device_name=None,
        expiration_dtm=EXPIRES,
    )

    assert encode_state(state) == (
        b'{"session_id":"s-2","ceremony":"REGISTRATION","rp_id":"example.com",'
        b'"policy_name":"default","challenge":"Y2hhbGxlbmdl","user_id":"u-1",'
        b'"device_id":"d-1","device_name":null,"expiration_dtm":"2026-12-04T15:15:40.512Z",'
        b'"transaction_hash":null}'
    )
