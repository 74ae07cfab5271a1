"""Examples of stores and TOTP policies (spec §3, §5.1)."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.values import (
    ISSUER,
    POLICY_ID,
    POLICY_NAME,
    STORE_CREATED,
    STORE_ID,
    STORE_NAME,
    STORE_UPDATED,
    TENANT_ID,
    Json,
    page,
)
from idstore.services.errors import InvalidField

POLICY: Json = {
    "id": POLICY_ID,
    "name": POLICY_NAME,
    "description": "Authenticator apps of card holders",
    "algorithm": "SHA1",
    "digits": 6,
    "period": 30,
    "issuer": ISSUER,
    "driftSteps": 1,
    "secretLength": 20,
    "registrationTimeoutSeconds": 600,
    "allowSecretRetrieval": False,
    "createdDtm": STORE_CREATED,
    "lastUpdatedDtm": STORE_CREATED,
}

USER_LOCKING: Json = {
    "enabled": True,
    "modalityLockThreshold": 5,
    "modalityLockSeconds": 300,
    "userLockThreshold": 10,
    "userTempLockSeconds": 900,
    "maxTempLocks": 3,
}

STORE: Json = {
    "id": STORE_ID,
    "tenantId": TENANT_ID,
    "name": STORE_NAME,
    "description": "Customers of the payments app",
    "configuration": {
        "defaultUserStatus": "ACTIVE",
        "defaultUserLocale": "en-GB",
        "defaultUserTimezone": "Europe/London",
        "userLocking": USER_LOCKING,
        "totpPolicies": {POLICY_NAME: POLICY},
        "passkeyPolicies": {},
        "appkeyPolicies": {},
        "faceMatchThreshold": 0.5,
        "faceRetainImages": False,
    },
    "createdDtm": STORE_CREATED,
    "lastUpdatedDtm": STORE_CREATED,
}

UPDATED_STORE: Json = {
    **STORE,
    "description": "Customers of the payments and savings apps",
    "configuration": {
        **STORE["configuration"],
        "userLocking": {**USER_LOCKING, "modalityLockThreshold": 3},
    },
    "lastUpdatedDtm": STORE_UPDATED,
}

STORES_PAGE = page([STORE])

STORE_IN: dict[str, Example] = {
    "minimal": {
        "summary": "A store with the default configuration",
        "value": {"name": STORE_NAME},
    },
    "configured": {
        "summary": "A store with its configuration and a TOTP policy",
        "value": {
            "name": STORE_NAME,
            "description": STORE["description"],
            "configuration": {
                "defaultUserLocale": "en-GB",
                "defaultUserTimezone": "Europe/London",
                "userLocking": {"modalityLockThreshold": 5, "userTempLockSeconds": 900},
                "totpPolicies": {
                    POLICY_NAME: {"description": POLICY["description"], "issuer": ISSUER}
                },
            },
        },
    },
}

STORE_PATCH: dict[str, Example] = {
    "locking": {
        "summary": "Change the description and one locking threshold; the rest stays",
        "value": {
            "description": UPDATED_STORE["description"],
            "configuration": {"userLocking": {"modalityLockThreshold": 3}},
        },
    },
    "relyingParty": {
        "summary": "Rename a relying party and require user verification in its policy "
        "`default`; the other relying parties and fields stay",
        "value": {
            "configuration": {
                "passkeyPolicies": {
                    "example.com": {
                        "rpName": "Example Bank",
                        "authenticationPolicies": {"default": {"userVerification": "required"}},
                    }
                }
            }
        },
    },
}

POLICY_IN: dict[str, Example] = {
    "defaults": {
        "summary": "A policy taking the defaults (SHA1, 6 digits, 30 s)",
        "value": {"name": POLICY_NAME, "description": POLICY["description"], "issuer": ISSUER},
    },
    "strict": {
        "summary": "SHA256, 8 digits and no drift, for staff",
        "value": {
            "name": "staff",
            "algorithm": "SHA256",
            "digits": 8,
            "period": 30,
            "driftSteps": 0,
            "registrationTimeoutSeconds": 300,
        },
    },
}

UPDATED_POLICY: Json = {
    **POLICY,
    "driftSteps": 2,
    "registrationTimeoutSeconds": 900,
    "lastUpdatedDtm": STORE_UPDATED,
}

POLICY_PATCH: dict[str, Example] = {
    "drift": {
        "summary": "Accept a wider clock drift; TOTPs registered keep their digits and period",
        "value": {"driftSteps": 2, "registrationTimeoutSeconds": 900},
    },
}

# 9002 as the validators word it.
INVALID_NAME = InvalidField.of("name", "String should match pattern '^[A-Za-z0-9._-]{1,64}$'")
INVALID_THRESHOLD = InvalidField.of(
    "configuration.userLocking.modalityLockThreshold", "Input should be greater than or equal to 1"
)
INVALID_DIGITS = InvalidField.of("digits", "Input should be 6, 7 or 8")
INVALID_PERIOD = InvalidField.of("period", "Input should be greater than or equal to 10")
