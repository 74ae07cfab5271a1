"""Values the examples share, so that the ids and instants of one example agree with another's."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

TENANT_ID = "0193a5c2-1b40-7a10-8c11-3f6e2a9d4b01"
STORE_ID = "0193a5c2-2c51-7b22-9d22-4a7f3b0e5c12"
POLICY_ID = "0193a5c2-3d62-7c33-ae33-5b804c1f6d23"
USER_ID = "0193a5c3-4e73-7d44-8f44-6c915d207e34"
TOTP_ID = "0193a5c4-5f84-7e55-9a55-7da26e318f45"
AUDIT_RECORD_ID = "0193a5c5-6095-7f66-ab66-8eb37f429056"
API_KEY_ID = "0193a5c1-71a6-7077-bc77-9fc4805301a7"
EVENT_ID = "0193a5c3-82b7-7188-8d88-a0d59164f2b8"
REQUEST_ID = "3f9c2a1e-7b4d-4e8a-9c1f-2d6b8e0a4c71"

STORE_NAME = "payments"
POLICY_NAME = "default"
EXTERNAL_ID = "cust-4711"
USERNAME = "alice@example.com"
ISSUER = "Acme Payments"

# Timestamps as the contract writes them (ISO-8601 UTC, milliseconds, Z), in the order they happen.
STORE_CREATED = "2026-12-01T09:00:00.000Z"
STORE_UPDATED = "2026-12-02T10:30:00.000Z"
USER_CREATED = "2026-12-04T15:02:11.123Z"
REGISTRATION_STARTED = "2026-12-04T15:05:40.512Z"
REGISTRATION_EXPIRES = "2026-12-04T15:15:40.512Z"
ACTIVATED = "2026-12-04T15:06:02.871Z"
AUTHENTICATED = "2026-12-05T08:41:27.305Z"
LOCKED = "2026-12-05T08:44:03.918Z"
UNLOCKS = "2026-12-05T08:59:03.918Z"
ADMIN_CHANGE = "2026-12-06T11:20:45.660Z"

# Obviously fake credentials: base32 of 20 bytes for a TOTP, and placeholders for the rest.
TOTP_SECRET = "EXAMPLESECRETNOTREALEXAMPLEONLY2"  # noqa: S105 - a placeholder, by design
API_KEY = "idsk_EXAMPLE-ONLY-this-is-not-a-real-api-key"
BEARER_TOKEN = "EXAMPLE.ONLY.not-a-real-bearer-token"  # noqa: S105 - a placeholder, by design


def page(content: list[Json], *, size: int = 20) -> Json:
    """The paged envelope around `content`, as the first and only page."""
    return {
        "content": content,
        "number": 0,
        "size": size,
        "numberOfElements": len(content),
        "totalElements": len(content),
        "totalPages": 1 if content else 0,
        "first": True,
        "last": True,
        "empty": not content,
    }
