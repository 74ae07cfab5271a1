"""Bearer tokens: JWTs signed with HS256 under a key derived from the key ring."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import jwt

from idstore.crypto.keyring import KeyRing

_ALGORITHM = "HS256"
_ISSUER = "idstore"


class InvalidToken(Exception):
    """The token is malformed, unsigned, signed otherwise, altered or expired."""


class ExpiredToken(InvalidToken):
    """A token that was valid, and whose time is up."""


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says about its caller."""

    api_key_id: str
    tenant_id: str
    permissions: tuple[str, ...]
    issued_at_ms: int
    expires_at: int


def issue_token(
    ring: KeyRing,
    *,
    api_key_id: str,
    tenant_id: str,
    permissions: tuple[str, ...],
    now: datetime,
    ttl_seconds: int,
) -> str:
    """Sign a token for an API key, valid `ttl_seconds` from `now`."""
    issued_at = int(now.timestamp())
    claims = {
        "iss": _ISSUER,
        "sub": api_key_id,
        "tnt": tenant_id,
        "perms": list(permissions),
        "iat": issued_at,
        # The same instant in milliseconds: a key unblocked voids tokens issued before, to the
        # millisecond, which whole seconds cannot tell apart.
        "iatms": int(now.timestamp() * 1000),
        "exp": issued_at + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    key_id = ring.current_key_id
    signing_key = ring.subkey(key_id, "token")
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM, headers={"kid": key_id})


def read_token(ring: KeyRing, token: str, *, now: datetime) -> TokenClaims:
    """Verify a token's signature and expiry against the service clock. Raises InvalidToken."""
    try:
        key_id = jwt.get_unverified_header(token).get("kid")
        signing_key = ring.subkey(str(key_id), "token")
        # Only HS256 is accepted: `none` and every other algorithm fail here.
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={
                "require": ["exp", "iat", "sub", "tnt"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except (jwt.PyJWTError, KeyError) as exc:
        raise InvalidToken("token is not valid") from exc

    # Expiry is judged by the service clock, the one every other rule uses.
    expires_at, issued_at = claims["exp"], claims.get("iatms", claims["iat"] * 1000)
    if not isinstance(expires_at, int) or not isinstance(issued_at, int):
        raise InvalidToken("token times are malformed")
    if expires_at <= now.timestamp():
        raise ExpiredToken("token expired")
    permissions = claims.get("perms", [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise InvalidToken("token permissions are malformed")
    return TokenClaims(
        api_key_id=str(claims["sub"]),
        tenant_id=str(claims["tnt"]),
        permissions=tuple(permissions),
        issued_at_ms=issued_at,
        expires_at=expires_at,
    )
