"""Examples of the appkey ceremonies (spec §10): UAF requests and responses as they travel.
Challenges, assertions and sealed sessions are placeholders that say so; none would verify."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.appkeys import AAID, APPKEY, CONFIG_NOT_FOUND, DEVICE_ID, RP_ID
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
    Json,
)
from idstore.services.appkey_facets import app_id_of
from idstore.services.errors import InvalidField, ResourceNotFound

__all__ = ["CONFIG_NOT_FOUND"]  # the ceremony routes answer it too

SESSION_ID = "0193a5c4-5f84-7e55-9a55-7da26e318f61"
CHALLENGE = "EXAMPLE-challenge-not-real"
SESSION_DATA = f"{SESSION_ID}.EXAMPLE-sealed-session-not-real"
APP_ID = app_id_of(RP_ID)
_HEADER: Json = {"upv": {"major": 1, "minor": 1}, "appID": APP_ID, "serverData": CHALLENGE}
_FC_PARAMS = "EXAMPLE-base64url-of-final-challenge-params"

REGISTRATION_START_IN: dict[str, Example] = {
    "default": {"summary": "The default policy", "value": {"policyName": "default"}},
    "device": {
        "summary": "Names the device the key is made on",
        "value": {"policyName": "default", "deviceId": DEVICE_ID, "deviceName": "Alice's phone"},
    },
}

REGISTRATION_STARTED_OUT: Json = {
    "sessionId": SESSION_ID,
    "request": [
        {
            "header": {**_HEADER, "op": "Reg"},
            "challenge": CHALLENGE,
            "username": EXTERNAL_ID,
            "policy": {
                "accepted": [
                    [{"aaid": [AAID], "assertionSchemes": ["UAFV1TLV"], "userVerification": 1157}],
                    [{"aaid": [AAID], "assertionSchemes": ["UAFV1TLV"], "userVerification": 858}],
                ]
            },
        }
    ],
}

AUTHENTICATION_START_IN: dict[str, Example] = {
    "known user": {
        "summary": "A user named by external id: their active keys are offered",
        "value": {"policyName": "default", "userExtId": EXTERNAL_ID},
    },
    "transaction": {
        "summary": "A payment the authenticator shows and signs",
        "value": {
            "policyName": "default",
            "userExtId": EXTERNAL_ID,
            "transactionText": "Pay 25.00 EUR to Example Shop",
        },
    },
    "any key": {
        "summary": "No user: any key of the relying party may answer",
        "value": {"policyName": "default"},
    },
}

AUTHENTICATION_STARTED_OUT: Json = {
    "sessionId": SESSION_ID,
    "request": [
        {
            "header": {**_HEADER, "op": "Auth"},
            "challenge": CHALLENGE,
            "policy": {
                "accepted": [
                    [
                        {
                            "aaid": [AAID],
                            "assertionSchemes": ["UAFV1TLV"],
                            "keyIDs": [APPKEY["keyId"]],
                        }
                    ]
                ]
            },
        }
    ],
}


def _response(op: str, assertion: str) -> list[Json]:
    return [
        {
            "header": {**_HEADER, "op": op},
            "fcParams": _FC_PARAMS,
            "assertions": [{"assertionScheme": "UAFV1TLV", "assertion": assertion}],
        }
    ]


_REGISTRATION_RESPONSE = _response("Reg", "EXAMPLE-base64url-of-a-UAFV1TLV-registration")
_AUTHENTICATION_RESPONSE = _response("Auth", "EXAMPLE-base64url-of-a-UAFV1TLV-authentication")
_FAILURE = client_cancelled("UAF client", "USER_CANCELLED")

REGISTRATION_COMPLETE_IN = completion_in(
    "response", "The UAF client's RegistrationResponse array", _REGISTRATION_RESPONSE, _FAILURE
)
EXTERNAL_REGISTRATION_COMPLETE_IN = external_completion_in(
    "response", "the RegistrationResponse", SESSION_DATA, _REGISTRATION_RESPONSE
)
AUTHENTICATION_COMPLETE_IN = completion_in(
    "response", "The UAF client's AuthenticationResponse array", _AUTHENTICATION_RESPONSE, _FAILURE
)
EXTERNAL_AUTHENTICATION_COMPLETE_IN: dict[str, Example] = {
    **external_completion_in(
        "response", "the AuthenticationResponse", SESSION_DATA, _AUTHENTICATION_RESPONSE
    ),
    "single-shot": {
        "summary": "No start: the challenge signed is the client's UTC time, base64url",
        "value": {"clientResponse": _AUTHENTICATION_RESPONSE},
    },
}

_NEW_APPKEY: Json = {
    **APPKEY,
    "signCount": 0,
    "preferred": False,
    "createdDtm": ACTIVATED,
}
_NEW_APPKEY.pop("lastAuthenticatedWithDtm")
_USED_APPKEY: Json = {**APPKEY, "lastAuthenticatedWithDtm": AUTHENTICATED}

REGISTRATION_COMPLETED: Json = {
    "user": {
        **NEW_USER,
        "lastUpdatedDtm": REGISTRATION_STARTED,
        "summaryInfo": {**NEW_USER["summaryInfo"], "appkeys": [_NEW_APPKEY]},
    },
    "appkey": _NEW_APPKEY,
    "authenticationId": AUDIT_RECORD_ID,
}

AUTHENTICATION: Json = {
    "user": {**USER, "summaryInfo": {**USER["summaryInfo"], "appkeys": [_USED_APPKEY]}},
    "appkey": _USED_APPKEY,
    "authenticationId": AUDIT_RECORD_ID,
}

USER_ID_AND_EXT_ID = InvalidField.of("userExtId", "give userId or userExtId, not both")
SESSION_NOT_FOUND = ResourceNotFound("appkey session not found, or already used")
