"""Examples of API keys, bearer tokens and the health checks (spec §2)."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.values import (
    ADMIN_CHANGE,
    API_KEY,
    API_KEY_ID,
    BEARER_TOKEN,
    STORE_CREATED,
    TENANT_ID,
    Json,
    page,
)
from idstore.services.errors import InvalidField, ResourceNotFound, Unauthenticated

_PERMISSIONS = [
    f"TNT#{TENANT_ID}#IdentityStore:authenticateTotp",
    f"TNT#{TENANT_ID}#IdentityStore:getUser",
]

API_KEY_OUT: Json = {
    "id": API_KEY_ID,
    "tenantId": TENANT_ID,
    "name": "checkout service",
    "permissions": _PERMISSIONS,
    "status": "ACTIVE",
    "createdDtm": STORE_CREATED,
    "lastUpdatedDtm": STORE_CREATED,
}

# The key itself appears in this one answer only.
API_KEY_CREATED: Json = {**API_KEY_OUT, "key": API_KEY}

BLOCKED_API_KEY: Json = {**API_KEY_OUT, "status": "BLOCKED", "lastUpdatedDtm": ADMIN_CHANGE}

UNBLOCKED_API_KEY: Json = {**API_KEY_OUT, "lastUpdatedDtm": ADMIN_CHANGE}

API_KEYS_PAGE = page([API_KEY_OUT])

API_KEY_IN: dict[str, Example] = {
    "sign-in": {
        "summary": "A key that may only check codes and read users",
        "value": {"name": "checkout service", "permissions": _PERMISSIONS},
    },
    "administrator": {
        "summary": "A key holding every operation of its tenant",
        "value": {"name": "operations team", "permissions": [f"TNT#{TENANT_ID}#IdentityStore:*"]},
    },
}

API_KEY_STATUS_IN: dict[str, Example] = {
    "block": {
        "summary": "Block the key: refused at once, its tokens void",
        "value": {"status": "BLOCKED"},
    },
    "unblock": {
        "summary": "Unblock the key (tokens issued before stay void)",
        "value": {"status": "ACTIVE"},
    },
}

TOKEN: Json = {"token": BEARER_TOKEN, "ttl": 900}

HEALTHY: Json = {"status": "UP"}

# 9002 and 9011 as the service words them.
PERMISSION_MALFORMED = InvalidField.of(
    "permissions.0",
    "String should match pattern '^TNT#[A-Za-z0-9._-]{1,64}#IdentityStore:(\\*|[A-Za-z]{1,64})$'",
)
KEY_NOT_FOUND = ResourceNotFound("API key not found")
NUL_IN_KEY_ID = InvalidField.of("id", "Value error, must not contain the NUL character")
API_KEY_MISSING = Unauthenticated("the X-Api-Key header must hold an API key")

# The start of a scrape: one series of each family the service exports.
METRICS = """\
# HELP idstore_authentications_total Authentication attempts, by modality, result and error code \
(0 for a success).
# TYPE idstore_authentications_total counter
idstore_authentications_total{code="0",modality="TOTP",result="SUCCESS"} 1289.0
idstore_authentications_total{code="3401",modality="TOTP",result="FAILURE"} 37.0
# HELP idstore_database_connections_in_use Database connections checked out of the pool, as of \
the end of the last request.
# TYPE idstore_database_connections_in_use gauge
idstore_database_connections_in_use 2.0
"""
