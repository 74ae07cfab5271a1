"""Bearer tokens: only HS256 under the ring's key, judged by the service clock."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from idstore.crypto.keyring import KeyRing
from idstore.crypto.tokens import InvalidToken, issue_token, read_token

RING = KeyRing((("k1", bytes(range(32))),))
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _token(ring: KeyRing = RING, ttl: int = 900) -> str:
    return issue_token(
        ring,
        api_key_id="key-1",
        tenant_id="default",
        permissions=("TNT#default#IdentityStore:*",),
        now=NOW,
        ttl_seconds=ttl,
    )


def _segments(token: str) -> list[dict[str, object]]:
    return [json.loads(base64.urlsafe_b64decode(part + "==")) for part in token.split(".")[:2]]


def test_a_token_carries_its_caller_and_expires_after_its_ttl() -> None:
    claims = read_token(RING, _token(), now=NOW + timedelta(seconds=899))

    assert (claims.api_key_id, claims.tenant_id) == ("key-1", "default")
    assert claims.permissions == ("TNT#default#IdentityStore:*",)
    with pytest.raises(InvalidToken):
        read_token(RING, _token(), now=NOW + timedelta(seconds=900))


def test_a_token_names_the_ring_key_that_signed_it() -> None:
    header, _ = _segments(_token())
    assert header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}


def test_an_altered_payload_is_refused() -> None:
    header, payload, signature = _token().split(".")
    claims = _segments(_token())[1]
    claims["tnt"] = "other"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        read_token(RING, f"{header}.{forged}.{signature}", now=NOW)
    assert payload != forged


def _encoded(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_an_unsigned_token_is_refused() -> None:
    claims = _segments(_token())[1]
    header: dict[str, object] = {"alg": "none", "kid": "k1", "typ": "JWT"}
    for unsigned in (
        f"{_encoded(header)}.{_encoded(claims)}.",
        f"{_encoded(header)}.{_encoded(claims)}",
    ):
        with pytest.raises(InvalidToken):
            read_token(RING, unsigned, now=NOW)


def test_a_token_signed_with_another_algorithm_is_refused() -> None:
    claims = _segments(_token())[1]
    subkey = RING.subkey("k1", "token")
    other = jwt.encode(claims, subkey, algorithm="HS512", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        read_token(RING, other, now=NOW)


def test_a_token_from_another_key_ring_is_refused() -> None:
    stranger = KeyRing((("k1", bytes(32)),))
    with pytest.raises(InvalidToken):
        read_token(RING, _token(stranger), now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x", "ä.ö.ü"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        read_token(RING, garbage, now=NOW)


def test_after_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() -> None:
    rotated = KeyRing((("k2", bytes(32)), *RING.keys))
    assert read_token(rotated, _token(), now=NOW).tenant_id == "default"
    assert _segments(_token(rotated))[0]["kid"] == "k2"
