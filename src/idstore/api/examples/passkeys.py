"""Examples of passkey configurations, ceremonies and passkeys (spec §9). Binary values are
placeholders that say so: none is a real challenge, credential or sealed session."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.ceremonies import (
    client_cancelled,
    completion_in,
    external_completion_in,
)
from idstore.api.examples.users import NEW_USER, USER
from idstore.api.examples.values import (
    ACTIVATED,
    AUDIT_RECORD_ID,
    AUTHENTICATED,
    EXTERNAL_ID,
    REGISTRATION_STARTED,
    STORE_CREATED,
    USERNAME,
    Json,
    page,
)
from idstore.services.errors import InvalidField, ResourceNotFound

RP_ID = "example.com"
CONFIG_ID = "0193a5c2-4e73-7c44-8f44-6c915d207e40"
PASSKEY_ID = "0193a5c4-6095-7e66-9a66-8eb37f429061"
SESSION_ID = "0193a5c4-5f84-7e55-9a55-7da26e318f50"
CREDENTIAL_ID = "EXAMPLE-credential-id-not-real"
USER_HANDLE = "EXAMPLE-user-handle-not-real"
CHALLENGE = "EXAMPLE-challenge-not-real"
SESSION_DATA = f"{SESSION_ID}.EXAMPLE-sealed-session-not-real"
AAGUID = "00000000-0000-0000-0000-000000000000"

POLICY: Json = {
    "userVerification": "preferred",
    "residentKey": "preferred",
    "attestation": "none",
    "algorithms": [-7, -8, -257],
    "timeoutSeconds": 300,
}

CONFIG: Json = {
    "id": CONFIG_ID,
    "rpId": RP_ID,
    "rpName": "Example",
    "restrictedOrigins": ["https://login.example.com"],
    "sessionManagement": "INTERNAL",
    "registrationPolicies": {"default": POLICY},
    "authenticationPolicies": {"default": {**POLICY, "userVerification": "required"}},
    "createdDtm": STORE_CREATED,
    "lastUpdatedDtm": STORE_CREATED,
}

CONFIG_IN: dict[str, Example] = {
    "minimal": {"summary": "Defaults: https://{rpId} and subdomains", "value": {"rpId": RP_ID}},
    "restricted": {
        "summary": "One origin, user verification required to sign in",
        "value": {
            "rpId": RP_ID,
            "rpName": "Example",
            "restrictedOrigins": ["https://login.example.com"],
            "authenticationPolicies": {"default": {"userVerification": "required"}},
        },
    },
}

CONFIG_PATCH: dict[str, Example] = {
    "external": {
        "summary": "Hand sessions to the caller as sealed sessionData",
        "value": {"sessionManagement": "EXTERNAL"},
    },
    "strict": {
        "summary": "Add a policy offering ES256 only",
        "value": {"authenticationPolicies": {"es256": {"algorithms": [-7]}}},
    },
}

PASSKEY: Json = {
    "id": PASSKEY_ID,
    "credentialId": CREDENTIAL_ID,
    "rpId": RP_ID,
    "status": "ACTIVE",
    "signCount": 0,
    "aaguid": AAGUID,
    "transports": ["internal", "hybrid"],
    "backupEligible": True,
    "backupState": True,
    "userHandle": USER_HANDLE,
    "createdDtm": ACTIVATED,
    "lastUpdatedDtm": ACTIVATED,
}

PASSKEY_PAGE = page([PASSKEY])

USED_PASSKEY: Json = {
    **PASSKEY,
    "signCount": 0,
    "lastUpdatedDtm": AUTHENTICATED,
    "lastAuthenticatedWithDtm": AUTHENTICATED,
}

_PASSKEY_USER_ATTRIBUTES: Json = {
    **NEW_USER["attributes"],
    "passkeyUsers": {RP_ID: {"USER_HANDLE": USER_HANDLE}},
}

REGISTRATION_START_IN: dict[str, Example] = {
    "default": {"summary": "The default policy", "value": {"policyName": "default"}},
    "named": {
        "summary": "Names the browser shows",
        "value": {"policyName": "default", "userName": USERNAME, "displayName": "Alice Example"},
    },
}

REGISTRATION_STARTED_OUT: Json = {
    "sessionId": SESSION_ID,
    "options": {
        "rp": {"name": "Example", "id": RP_ID},
        "user": {"id": USER_HANDLE, "name": EXTERNAL_ID, "displayName": EXTERNAL_ID},
        "challenge": CHALLENGE,
        "pubKeyCredParams": [
            {"type": "public-key", "alg": -7},
            {"type": "public-key", "alg": -8},
            {"type": "public-key", "alg": -257},
        ],
        "timeout": 300000,
        "excludeCredentials": [],
        "authenticatorSelection": {
            "residentKey": "preferred",
            "requireResidentKey": False,
            "userVerification": "preferred",
        },
        "attestation": "none",
    },
}

AUTHENTICATION_START_IN: dict[str, Example] = {
    "known user": {
        "summary": "A user named by external id: their passkeys are offered",
        "value": {"policyName": "default", "userExtId": EXTERNAL_ID},
    },
    "discoverable": {
        "summary": "No user: any discoverable passkey of the store may answer",
        "value": {"policyName": "default"},
    },
}

AUTHENTICATION_STARTED_OUT: Json = {
    "sessionId": SESSION_ID,
    "options": {
        "challenge": CHALLENGE,
        "timeout": 300000,
        "rpId": RP_ID,
        "allowCredentials": [{"id": CREDENTIAL_ID, "type": "public-key"}],
        "userVerification": "required",
    },
}

_ATTESTATION_RESPONSE: Json = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "EXAMPLE-client-data-json",
        "attestationObject": "EXAMPLE-attestation-object",
        "transports": ["internal", "hybrid"],
    },
    "authenticatorAttachment": "platform",
    "clientExtensionResults": {},
}

_ASSERTION_RESPONSE: Json = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "EXAMPLE-client-data-json",
        "authenticatorData": "EXAMPLE-authenticator-data",
        "signature": "EXAMPLE-signature",
        "userHandle": USER_HANDLE,
    },
    "authenticatorAttachment": "platform",
    "clientExtensionResults": {},
}

_FAILURE = client_cancelled("browser call", "NotAllowedError")

REGISTRATION_COMPLETE_IN = completion_in(
    "credential", "The credential's toJSON()", _ATTESTATION_RESPONSE, _FAILURE
)
EXTERNAL_REGISTRATION_COMPLETE_IN = external_completion_in(
    "credential", "the credential's toJSON()", SESSION_DATA, _ATTESTATION_RESPONSE
)
AUTHENTICATION_COMPLETE_IN = completion_in(
    "assertion", "The assertion's toJSON()", _ASSERTION_RESPONSE, _FAILURE
)
EXTERNAL_AUTHENTICATION_COMPLETE_IN = external_completion_in(
    "assertion", "the assertion's toJSON()", SESSION_DATA, _ASSERTION_RESPONSE
)

REGISTRATION_COMPLETED: Json = {
    "user": {
        **NEW_USER,
        "attributes": _PASSKEY_USER_ATTRIBUTES,
        "lastUpdatedDtm": REGISTRATION_STARTED,
        "summaryInfo": {**NEW_USER["summaryInfo"], "passkeys": [PASSKEY]},
    },
    "passkey": PASSKEY,
    "authenticationId": AUDIT_RECORD_ID,
}

AUTHENTICATION: Json = {
    "user": {
        **USER,
        "attributes": _PASSKEY_USER_ATTRIBUTES,
        "summaryInfo": {**USER["summaryInfo"], "passkeys": [USED_PASSKEY]},
    },
    "passkey": USED_PASSKEY,
    "authenticationId": AUDIT_RECORD_ID,
}

STATUS_IN: dict[str, Example] = {
    "disable": {
        "summary": "Refuse the passkey (348) until enabled",
        "value": {"status": "DISABLED"},
    },
    "enable": {"summary": "Accept it again", "value": {"status": "ACTIVE"}},
}

DISABLED_PASSKEY: Json = {**PASSKEY, "status": "DISABLED"}

REGISTRATION_AUDIT: Json = {
    "attestationFormat": "none",
    "aaguid": AAGUID,
    "origin": "https://login.example.com",
    "flags": 93,
    "userPresent": True,
    "userVerified": True,
    "backupEligible": True,
    "backupState": True,
    "algorithm": -7,
    "policyName": "default",
    "registeredDtm": ACTIVATED,
}

USER_ID_AND_EXT_ID = InvalidField.of("userExtId", "give userId or userExtId, not both")
ORIGIN_NOT_HTTPS = InvalidField.of(
    "restrictedOrigins[0]", "must be https (http only for localhost)"
)
CONFIG_NOT_FOUND = ResourceNotFound(f"passkey configuration for {RP_ID!r} not found")
SESSION_NOT_FOUND = ResourceNotFound("passkey session not found, or already used")
PASSKEY_NOT_FOUND = ResourceNotFound("passkey not found")
