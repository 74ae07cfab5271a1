"""Examples of TOTP registrations, codes and authentications (spec §5.2)."""

from __future__ import annotations

import base64

from fastapi.openapi.models import Example

from idstore import otp
from idstore.api.examples.users import ACTIVE_TOTP, NEW_USER, PENDING_TOTP, USER
from idstore.api.examples.values import (
    ACTIVATED,
    ADMIN_CHANGE,
    AUDIT_RECORD_ID,
    ISSUER,
    TOTP_SECRET,
    USERNAME,
    Json,
    page,
)
from idstore.services.errors import InvalidField

OTPAUTH_URI = otp.build_otpauth_uri(
    otp.OtpauthParameters(
        secret=base64.b32decode(TOTP_SECRET),
        issuer=ISSUER,
        username=USERNAME,
        algorithm=otp.Algorithm.SHA1,
        digits=6,
        period=30,
    )
)

# The PNG the service would draw for the URI above: Swagger UI users can decode and scan it.
QR_CODE = base64.b64encode(otp.qr_png(OTPAUTH_URI)).decode("ascii")

PENDING_REGISTRATION: Json = {
    "totp": PENDING_TOTP,
    "secret": TOTP_SECRET,
    "otpauthUri": OTPAUTH_URI,
    "qrCode": QR_CODE,
}

REGISTRATION_START_IN: dict[str, Example] = {
    "username": {
        "summary": "Label the account in the app (defaults to the external id)",
        "value": {"username": USERNAME},
    },
    "default": {"summary": "Label the account with the external id", "value": {}},
}

CODE_IN: dict[str, Example] = {
    "code": {"summary": "The six digits the app shows", "value": {"code": "492039"}},
    "spaced": {
        "summary": "Spaces and hyphens inside the code are ignored",
        "value": {"code": "492 039"},
    },
}

_JUST_ACTIVATED: Json = {
    **ACTIVE_TOTP,
    "lastUpdatedDtm": ACTIVATED,
    "lastAuthenticatedWithDtm": ACTIVATED,
}

COMPLETION: Json = {
    "user": {
        **NEW_USER,
        "lastUpdatedDtm": ACTIVATED,
        "lastSuccessfulAuthenticationDtm": ACTIVATED,
        "summaryInfo": {**NEW_USER["summaryInfo"], "totps": [_JUST_ACTIVATED]},
    },
    "totp": _JUST_ACTIVATED,
    "authenticationId": AUDIT_RECORD_ID,
}

AUTHENTICATION: Json = {"user": USER, "totp": ACTIVE_TOTP, "authenticationId": AUDIT_RECORD_ID}

USER_WITHOUT_TOTP: Json = {
    **USER,
    "lastUpdatedDtm": ADMIN_CHANGE,
    "summaryInfo": NEW_USER["summaryInfo"],
}

TOTP_PAGE = page([ACTIVE_TOTP])

DISABLED_TOTP: Json = {**ACTIVE_TOTP, "status": "DISABLED", "lastUpdatedDtm": ADMIN_CHANGE}

STATUS_IN: dict[str, Example] = {
    "disable": {
        "summary": "Disable the TOTP: its codes answer 2103",
        "value": {"status": "DISABLED"},
    },
    "enable": {
        "summary": "Enable a TOTP that was active before",
        "value": {"status": "ACTIVE"},
    },
}

# 9002 as the validators word them.
USERNAME_WITH_COLON = InvalidField.of(
    "username", "Value error, must not contain ':' (it separates issuer and account in the label)"
)
CODE_NOT_A_STRING = InvalidField.of("code", "Input should be a valid string")
STATUS_UNKNOWN = InvalidField.of("status", "Input should be 'ACTIVE', 'DISABLED' or 'PENDING'")
