"""Examples of the authentication audit and the admin event log (spec §7)."""

from __future__ import annotations

from idstore.api.examples.values import (
    ACTIVATED,
    ADMIN_CHANGE,
    API_KEY_ID,
    AUDIT_RECORD_ID,
    AUTHENTICATED,
    EVENT_ID,
    POLICY_NAME,
    REGISTRATION_STARTED,
    REQUEST_ID,
    STORE_ID,
    TENANT_ID,
    TOTP_ID,
    USER_ID,
    Json,
    page,
)
from idstore.services.errors import InvalidField

_TOTP_INFO: Json = {
    "id": TOTP_ID,
    "policyName": POLICY_NAME,
    "algorithm": "SHA1",
    "registrationCreatedDtm": REGISTRATION_STARTED,
    "registrationActivatedDtm": ACTIVATED,
}

AUDIT_RECORD: Json = {
    "authAuditRecord": {
        "id": AUDIT_RECORD_ID,
        "tenantId": TENANT_ID,
        "storeId": STORE_ID,
        "userId": USER_ID,
        "type": "TOTP",
        "result": "SUCCESS",
        "createdDtm": AUTHENTICATED,
        "totpInfo": _TOTP_INFO,
    },
    "authAuditDisplayInfo": {
        "totpAuditInfo": {
            **{key: value for key, value in _TOTP_INFO.items() if key != "id"},
            "authenticationDtm": AUTHENTICATED,
        }
    },
}

# A wrong code, tried before the success above: the record keeps the error code, never the code.
_FAILED_AT = "2026-12-05T08:41:02.117Z"
FAILED_RECORD: Json = {
    "authAuditRecord": {
        **AUDIT_RECORD["authAuditRecord"],
        "id": "0193a5c5-5f11-7e01-9b01-7da26e318f01",
        "result": "FAILURE",
        "errorCode": 3401,
        "createdDtm": _FAILED_AT,
    },
    "authAuditDisplayInfo": {
        "totpAuditInfo": {
            **AUDIT_RECORD["authAuditDisplayInfo"]["totpAuditInfo"],
            "authenticationDtm": _FAILED_AT,
        }
    },
}

AUDIT_PAGE = page([FAILED_RECORD, AUDIT_RECORD])

EVENTS_PAGE = page(
    [
        {
            "id": EVENT_ID,
            "tenantId": TENANT_ID,
            "storeId": STORE_ID,
            "callerId": API_KEY_ID,
            "requestId": REQUEST_ID,
            "kind": "user.updated",
            "subjectId": USER_ID,
            "createdDtm": ADMIN_CHANGE,
            "details": {"fields": ["email", "locale"]},
        }
    ]
)

# 9002 as the service words them.
NUL_IN_ID = InvalidField.of("id", "Value error, must not contain the NUL character")
TIME_WITHOUT_ZONE = InvalidField.of("from", "needs a time zone (e.g. Z)")
