"""Examples of appkey configurations, user appkeys and deregistrations (spec §10). Keys, hashes
and certificates are placeholders that say so."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.users import NEW_USER
from idstore.api.examples.values import ACTIVATED, AUTHENTICATED, STORE_CREATED, Json, page
from idstore.services.appkey_facets import app_id_of
from idstore.services.appkey_management_errors import AppkeyDeviceNotFound, NoAppkeysMatched
from idstore.services.errors import InvalidField, ResourceNotFound

RP_ID = "example.com"
CONFIG_ID = "0193a5c2-4e73-7c44-8f44-6c915d207e51"
APPKEY_ID = "0193a5c4-6095-7e66-9a66-8eb37f429072"
KEY_ID = "EXAMPLE-key-id-not-real"
AAID = "ABCD#0001"
DEVICE_ID = "device-7f3a"
WEB_FACET = "https://login.example.com"
ANDROID_FACET = "android:apk-key-hash:EXAMPLEnotArealHashEXAMPLEnot"
IOS_FACET = "ios:bundle-id:com.example.wallet"

REGISTRATION_POLICY: Json = {
    "keyTypes": ["DEVICE", "BIOMETRIC"],
    "aaids": [],
    "attestationRootCertificates": [],
}
AUTHENTICATION_POLICY: Json = {"keyTypes": ["DEVICE", "BIOMETRIC"], "timeoutSeconds": 300}

CONFIG: Json = {
    "id": CONFIG_ID,
    "rpId": RP_ID,
    "trustedFacets": [WEB_FACET, ANDROID_FACET, IOS_FACET],
    "sessionManagement": "INTERNAL",
    "singleShotWindowSeconds": 120,
    "registrationPolicies": {"default": REGISTRATION_POLICY},
    "authenticationPolicies": {
        "default": AUTHENTICATION_POLICY,
        "payments": {"keyTypes": ["BIOMETRIC"], "timeoutSeconds": 120},
    },
    "createdDtm": STORE_CREATED,
    "lastUpdatedDtm": STORE_CREATED,
}

CONFIG_IN: dict[str, Example] = {
    "minimal": {"summary": "Default policies, no trusted facets yet", "value": {"rpId": RP_ID}},
    "apps": {
        "summary": "A web facet and the two mobile apps; biometric keys for payments",
        "value": {
            "rpId": RP_ID,
            "trustedFacets": [WEB_FACET, ANDROID_FACET, IOS_FACET],
            "authenticationPolicies": {"payments": {"keyTypes": ["BIOMETRIC"]}},
        },
    },
}

CONFIG_PATCH: dict[str, Example] = {
    "external": {
        "summary": "Hand sessions to the caller as sealed sessionData",
        "value": {"sessionManagement": "EXTERNAL", "singleShotWindowSeconds": 60},
    },
    "vendor": {
        "summary": "Accept one vendor's authenticators, with a full attestation",
        "value": {
            "registrationPolicies": {
                "default": {
                    "aaids": [AAID],
                    "attestation": "BASIC_FULL",
                    "attestationRootCertificates": ["EXAMPLEbase64DERofArootCAnotReal"],
                }
            }
        },
    },
}

TRUSTED_FACETS: Json = {
    "trustedFacets": [
        {"version": {"major": 1, "minor": 1}, "ids": [WEB_FACET, ANDROID_FACET, IOS_FACET]}
    ]
}

APPKEY: Json = {
    "id": APPKEY_ID,
    "keyId": KEY_ID,
    "aaid": AAID,
    "rpId": RP_ID,
    "type": "BIOMETRIC",
    "deviceId": DEVICE_ID,
    "deviceName": "Alice's phone",
    "status": "ACTIVE",
    "signCount": 7,
    "attestationType": "BASIC_SURROGATE",
    "createdDtm": ACTIVATED,
    "lastAuthenticatedWithDtm": AUTHENTICATED,
    "preferred": True,
}
DISABLED_APPKEY: Json = {**APPKEY, "status": "DISABLED"}
APPKEY_PAGE = page([APPKEY])
STATUS_IN: dict[str, Example] = {
    "disable": {"summary": "Refuse this key until enabled again", "value": {"status": "DISABLED"}}
}

REGISTRATION_AUDIT: Json = {
    "aaid": AAID,
    "attestationType": "BASIC_SURROGATE",
    "facetId": ANDROID_FACET,
    "deviceId": DEVICE_ID,
    "deviceName": "Alice's phone",
    "authenticatorVersion": 1,
}

DEREGISTRATION_IN: dict[str, Example] = {
    "device": {
        "summary": "Every key on one device",
        "value": {"type": "ALL", "deviceId": DEVICE_ID},
    },
    "biometric": {"summary": "The user's biometric keys", "value": {"type": "BIOMETRIC"}},
}
DEREGISTERED: Json = {
    "user": NEW_USER,
    "deregistrationRequest": [
        {
            "header": {"upv": {"major": 1, "minor": 1}, "op": "Dereg", "appID": app_id_of(RP_ID)},
            "authenticators": [{"aaid": AAID, "keyID": KEY_ID}],
        }
    ],
}
PREFERRED_DEVICE_IN: dict[str, Example] = {
    "device": {"summary": "Push to this device first", "value": {"deviceId": DEVICE_ID}}
}

CONFIG_NOT_FOUND = ResourceNotFound(f"appkey configuration for {RP_ID!r} not found")
APPKEY_NOT_FOUND = ResourceNotFound("appkey not found")
NOTHING_MATCHED = NoAppkeysMatched(f"no appkey of the user for {RP_ID!r} matches")
DEVICE_NOT_FOUND = AppkeyDeviceNotFound(f"the user has no appkey for {RP_ID!r} on that device")
FACET_REFUSED = InvalidField.of(
    "trustedFacets[0]",
    "must be https://host[:port] without a path, android:apk-key-hash:<base64> "
    "or ios:bundle-id:<id>",
)
