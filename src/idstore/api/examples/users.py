"""Examples of users, their locks and the TOTP summary they carry (spec §4, §6)."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.values import (
    ACTIVATED,
    ADMIN_CHANGE,
    AUTHENTICATED,
    EXTERNAL_ID,
    ISSUER,
    LOCKED,
    POLICY_NAME,
    REGISTRATION_EXPIRES,
    REGISTRATION_STARTED,
    STORE_ID,
    TOTP_ID,
    UNLOCKS,
    USER_CREATED,
    USER_ID,
    USERNAME,
    Json,
    page,
)
from idstore.services.errors import InvalidField

PENDING_TOTP: Json = {
    "id": TOTP_ID,
    "createdDtm": REGISTRATION_STARTED,
    "lastUpdatedDtm": REGISTRATION_STARTED,
    "status": "PENDING",
    "issuer": ISSUER,
    "username": USERNAME,
    "policyName": POLICY_NAME,
    "algorithm": "SHA1",
    "digits": 6,
    "period": 30,
    "expirationDtm": REGISTRATION_EXPIRES,
}

ACTIVE_TOTP: Json = {
    **{key: value for key, value in PENDING_TOTP.items() if key != "expirationDtm"},
    "lastUpdatedDtm": AUTHENTICATED,
    "status": "ACTIVE",
    "activatedDtm": ACTIVATED,
    "lastAuthenticatedWithDtm": AUTHENTICATED,
}

NEW_USER: Json = {
    "id": USER_ID,
    "externalId": EXTERNAL_ID,
    "storeId": STORE_ID,
    "status": "ACTIVE",
    "locale": "en-GB",
    "timezone": "Europe/London",
    "firstName": "Alice",
    "lastName": "Example",
    "email": USERNAME,
    "attributes": {"segment": "retail"},
    "createdDtm": USER_CREATED,
    "lastUpdatedDtm": USER_CREATED,
    "lockCount": 0,
    "locks": {"modalities": {}},
    "summaryInfo": {"biometrics": [], "appkeys": [], "passkeys": [], "totps": []},
}

USER: Json = {
    **NEW_USER,
    "lastUpdatedDtm": AUTHENTICATED,
    "lastSuccessfulAuthenticationDtm": AUTHENTICATED,
    "summaryInfo": {**NEW_USER["summaryInfo"], "totps": [ACTIVE_TOTP]},
}

# After one wrong code: the failure counted, nothing locked yet.
USER_AFTER_FAILURE: Json = {
    **USER,
    "locks": {"modalities": {"TOTP": {"failedAttempts": 1}}},
}

# After the fifth wrong code in a row: TOTP locked for this user; the status stays ACTIVE.
USER_WITH_TOTP_LOCKED: Json = {
    **USER,
    "locks": {
        "modalities": {"TOTP": {"failedAttempts": 5, "lockedDtm": LOCKED, "unlockDtm": UNLOCKS}}
    },
}

USER_SLIM: Json = {
    key: USER[key]
    for key in ("id", "externalId", "status", "storeId", "createdDtm", "lastUpdatedDtm")
}

USERS_PAGE = page([USER_SLIM])

UPDATED_USER: Json = {
    **USER,
    "email": "alice.example@example.org",
    "locale": "de-DE",
    "lastUpdatedDtm": ADMIN_CHANGE,
}

USER_IN: dict[str, Example] = {
    "minimal": {
        "summary": "Only the external id; the rest defaults to the store's configuration",
        "value": {"externalId": EXTERNAL_ID},
    },
    "full": {
        "summary": "A user with profile fields and free-form attributes",
        "value": {
            "externalId": EXTERNAL_ID,
            "firstName": "Alice",
            "lastName": "Example",
            "email": USERNAME,
            "locale": "en-GB",
            "timezone": "Europe/London",
            "attributes": {"segment": "retail"},
        },
    },
}

USER_PATCH: dict[str, Example] = {
    "profile": {
        "summary": "Change two fields; the others stay",
        "value": {"email": UPDATED_USER["email"], "locale": "de-DE"},
    },
    "disable": {
        "summary": "Disable the user: every authentication answers 2102",
        "value": {"status": "DISABLED"},
    },
    "unlock": {
        "summary": "Set ACTIVE: lifts the user's lock and every modality lock",
        "value": {"status": "ACTIVE"},
    },
}

UNLOCK_IN: dict[str, Example] = {
    "totp": {
        "summary": "Clear only the TOTP lock and its failure count",
        "value": {"modalities": ["TOTP"]},
    },
    "everything": {
        "summary": "Lift the user's lock and every modality lock",
        "value": {},
    },
}

USER_TEMP_LOCKED: Json = {
    **USER,
    "status": "TEMP_LOCKED",
    "lockCount": 1,
    "locks": {
        "user": {"status": "TEMP_LOCKED", "lockedDtm": LOCKED, "unlockDtm": UNLOCKS},
        "modalities": {"TOTP": {"failedAttempts": 4}},
    },
}

USER_DISABLED: Json = {**USER, "status": "DISABLED", "lastUpdatedDtm": ADMIN_CHANGE}

USER_PENDING_ACTIVE: Json = {**USER, "status": "PENDING_ACTIVE"}

# 9002 as the validators word them.
EXTERNAL_ID_MISSING = InvalidField.of("externalId", "Field required")
EMAIL_INVALID = InvalidField.of("email", "Value error, not an e-mail address")
MODALITY_UNKNOWN = InvalidField.of(
    "modalities.0", "Input should be 'TOTP', 'Passkey', 'Appkey' or 'Face'"
)
