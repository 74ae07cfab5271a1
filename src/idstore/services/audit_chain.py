"""Tamper evidence for the authentication audit: one hash chain per user.

Each record carries an HMAC-SHA256, under a key derived from the key ring, over its own content
and the hash of the user's previous record; the user's row keeps the newest hash. A record
altered, deleted or inserted breaks a link that anyone without the key ring cannot mend.

The chain is per user because every attempt already holds the user's row lock: the link costs
no extra lock and no extra statement, and unrelated users never wait for each other. A chain
across a whole store would serialise every authentication of the store on one row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from idstore.crypto.keyring import KeyRing
from idstore.services.models import JsonObject

PURPOSE = "audit-chain"
HEAD_PURPOSE = "audit-head"
GENESIS = ""  # the `previous` of a user's first record
# Built once: json.dumps with arguments builds an encoder on every call, and every attempt links.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class AuditContent:
    """Every stored field of a record that the chain vouches for."""

    id: str
    tenant_id: str
    store_id: str
    user_id: str
    type: str
    result: str
    error_code: int | None
    created_dtm: datetime
    details: JsonObject
    request_id: str | None

    def canonical(self, previous: str) -> bytes:
        """One byte string per content: sorted keys, UTC with microseconds, no spaces."""
        fields = {
            **self.__dict__,
            "created_dtm": self.created_dtm.astimezone(UTC).isoformat(timespec="microseconds"),
            "previous": previous,
        }
        return _CANONICAL.encode(fields).encode()


@dataclass(frozen=True)
class Link:
    key_id: str
    previous: str
    hash: str


def link(keyring: KeyRing, content: AuditContent, previous: str) -> Link:
    """The link a new record adds after `previous` (the user's chain head)."""
    key_id = keyring.current_key_id
    return Link(key_id, previous, _digest(keyring, key_id, content, previous))


def holds(keyring: KeyRing, content: AuditContent, stored: Link) -> bool:
    """Whether a stored link still vouches for the content; False when its key is gone."""
    try:
        expected = _digest(keyring, stored.key_id, content, stored.previous)
    except KeyError:
        return False
    return hmac.compare_digest(expected, stored.hash)


def seal_head(keyring: KeyRing, key_id: str, *, user_id: str, length: int, head: str) -> str:
    """The seal kept beside a user's head: rewinding the head, or cutting records off the end
    and counting again, needs the key."""
    key = keyring.subkey(key_id, HEAD_PURPOSE)
    message = f"{user_id}|{length}|{head}".encode()
    return hmac.digest(key, message, hashlib.sha256).hex()


def head_holds(
    keyring: KeyRing, key_id: str, *, user_id: str, length: int, head: str, seal: str
) -> bool:
    try:
        expected = seal_head(keyring, key_id, user_id=user_id, length=length, head=head)
    except KeyError:
        return False
    return hmac.compare_digest(expected, seal)


def _digest(keyring: KeyRing, key_id: str, content: AuditContent, previous: str) -> str:
    key = keyring.subkey(key_id, PURPOSE)
    return hmac.digest(key, content.canonical(previous), hashlib.sha256).hex()
