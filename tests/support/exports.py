"""What the transfer tests share: an export file held in memory with the key that opens it."""

from __future__ import annotations

from dataclasses import dataclass

from idstore.transfer.recipient import Identity
from tests.support.totp_users import TotpUser


@dataclass(frozen=True)
class Exported:
    lines: list[bytes]
    identity: Identity
    owner: TotpUser
