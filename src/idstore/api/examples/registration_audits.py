"""Examples of a key's registration audit: the flat fields its registration kept, and the
authentication record of the completion that registered it (spec §7's shape)."""

from __future__ import annotations

from idstore.api.examples import appkeys, passkeys
from idstore.api.examples.values import (
    ACTIVATED,
    AUDIT_RECORD_ID,
    STORE_ID,
    TENANT_ID,
    USER_ID,
    Json,
)


def _with_record(flat: Json, modality: str, info: Json) -> Json:
    record = {
        "id": AUDIT_RECORD_ID,
        "tenantId": TENANT_ID,
        "storeId": STORE_ID,
        "userId": USER_ID,
        "type": modality,
        "result": "SUCCESS",
        "createdDtm": ACTIVATED,
        info["name"]: {**info["value"], "ceremony": "REGISTRATION"},
    }
    return {**flat, "authAuditRecord": record, "authAuditDisplayInfo": {}}


PASSKEY_REGISTRATION_AUDIT = _with_record(
    passkeys.REGISTRATION_AUDIT,
    "Passkey",
    {
        "name": "passkeyInfo",
        "value": {
            "rpId": passkeys.RP_ID,
            "policyName": "default",
            "id": passkeys.PASSKEY_ID,
            "credentialId": passkeys.CREDENTIAL_ID,
        },
    },
)
APPKEY_REGISTRATION_AUDIT = _with_record(
    appkeys.REGISTRATION_AUDIT,
    "Appkey",
    {
        "name": "appkeyInfo",
        "value": {
            "rpId": appkeys.RP_ID,
            "policyName": "default",
            "id": appkeys.APPKEY_ID,
            "keyId": appkeys.KEY_ID,
            "aaid": appkeys.AAID,
        },
    },
)
