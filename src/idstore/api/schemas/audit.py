"""The authentication audit (spec §7)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from idstore.api.schemas.common import Dtm, ResponseBody
from idstore.api.schemas.passkeys import PasskeyOut
from idstore.api.schemas.totps import UserTotpOut
from idstore.api.schemas.users import UserOut


class TotpInfoOut(ResponseBody):
    id: str | None = None
    policy_name: str
    algorithm: str | None = None
    registration_created_dtm: str | None = None
    registration_activated_dtm: str | None = None


class PasskeyInfoOut(ResponseBody):
    """Which passkey an attempt used, once known: never a challenge, signature or key."""

    rp_id: str
    policy_name: str
    ceremony: Literal["REGISTRATION", "AUTHENTICATION"] | None = None
    id: str | None = None
    credential_id: str | None = None


class FaceInfoOut(ResponseBody):
    """Which face an attempt matched against, the score and threshold, the model: never the
    image or the template."""

    biometric_id: str | None = None
    score: float | None = None
    threshold: float | None = None
    model: str | None = None
    model_version: str | None = None
    reason: str | None = None


class AppkeyInfoOut(ResponseBody):
    """Which appkey an attempt used, once known: never a challenge, signature or key.
    `ceremony` is SINGLE_SHOT for a sign-in without a session, which names no policy."""

    rp_id: str
    ceremony: Literal["REGISTRATION", "AUTHENTICATION", "SINGLE_SHOT"]
    policy_name: str | None = None
    id: str | None = None
    key_id: str | None = None
    aaid: str | None = None


class TotpAuditInfoOut(ResponseBody):
    policy_name: str
    algorithm: str | None = None
    registration_created_dtm: str | None = None
    registration_activated_dtm: str | None = None
    authentication_dtm: Dtm


class AuthAuditRecordOut(ResponseBody):
    id: str
    tenant_id: str
    store_id: str
    user_id: str
    type: str
    result: str
    error_code: int | None = None
    created_dtm: Dtm
    totp_info: TotpInfoOut | None = None
    passkey_info: PasskeyInfoOut | None = None
    face_info: FaceInfoOut | None = None
    appkey_info: AppkeyInfoOut | None = None


class AuthAuditDisplayInfoOut(ResponseBody):
    totp_audit_info: TotpAuditInfoOut | None = None


class AuditRecordOut(ResponseBody):
    auth_audit_record: AuthAuditRecordOut
    auth_audit_display_info: AuthAuditDisplayInfoOut


class TotpAuthenticationOut(ResponseBody):
    """A code accepted: the updated user and TOTP, and the id of the audit record."""

    user: UserOut
    totp: UserTotpOut
    authentication_id: str = Field(description="The id of the authentication audit record.")


class PasskeyRegistrationOut(ResponseBody):
    """A passkey registered: the updated user, the new passkey, the audit record's id."""

    user: UserOut
    passkey: PasskeyOut
    authentication_id: str


class PasskeyAuthenticationOut(ResponseBody):
    """A passkey assertion accepted: the updated user and passkey, the audit record's id."""

    user: UserOut
    passkey: PasskeyOut
    authentication_id: str


class FaceAuthenticationOut(ResponseBody):
    """A face matched: the updated user, the score (0-1, higher is more alike), the audit
    record's id."""

    user: UserOut
    score: float
    authentication_id: str
