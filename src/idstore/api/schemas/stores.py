"""Stores, their configuration and TOTP policies (spec §3, §5.1, §6)."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StrictBool

from idstore.api.schemas.appkeys import AppkeyConfigOut, AppkeyConfigPatch
from idstore.api.schemas.common import (
    Description,
    Dtm,
    JsonInteger,
    Name,
    NotNull,
    RequestBody,
    ResponseBody,
    Storable,
    StrictStr,
)
from idstore.api.schemas.passkeys import PasskeyConfigOut, PasskeyConfigPatch, RpId
from idstore.otp import Algorithm
from idstore.services.policies import MAX_POLICIES_PER_STORE


def _no_colon(value: str) -> str:
    if ":" in value:
        raise ValueError("must not contain ':' (it separates issuer and account in the label)")
    return value


def _not_blank(value: str) -> str:
    # Authenticator apps show issuer and username: only white space names nothing.
    if not value.strip():
        raise ValueError("must not be only white space")
    return value


def _not_reserved(name: str) -> str:
    if name == "ext":
        raise ValueError("'ext' is reserved: it ends the external-id twin of every user path")
    return name


Issuer = Annotated[
    StrictStr,
    Field(min_length=1, max_length=255),
    Storable,
    AfterValidator(_no_colon),
    AfterValidator(_not_blank),
]


def _not_a_dot_segment(name: str) -> str:
    # RFC 3986 §5.2.4: clients remove `.` and `..` path segments, so no URL would reach it.
    if name in (".", ".."):
        raise ValueError("'.' and '..' are not names: a URL path cannot hold them as a segment")
    return name


SegmentName = Annotated[Name, AfterValidator(_not_a_dot_segment)]
PolicyName = Annotated[SegmentName, AfterValidator(_not_reserved)]


Digits = Annotated[Literal[6, 7, 8], JsonInteger]
Period = Annotated[int, Field(ge=10, le=300), JsonInteger]
DriftSteps = Annotated[int, Field(ge=0, le=10), JsonInteger]
SecretLength = Annotated[int, Field(ge=20, le=64), JsonInteger]
RegistrationTimeout = Annotated[int, Field(ge=30, le=7 * 24 * 3600), JsonInteger]
Threshold = Annotated[int, Field(ge=1, le=1000), JsonInteger]
LockSeconds = Annotated[int, Field(ge=0, le=31_536_000), JsonInteger]
TempLockSeconds = Annotated[int, Field(ge=1, le=31_536_000), JsonInteger]
MaxTempLocks = Annotated[int, Field(ge=0, le=100), JsonInteger]
Score = Annotated[float, Field(ge=0, le=1, strict=True)]


class TotpPolicyOut(ResponseBody):
    id: str
    name: str
    description: str | None = None
    algorithm: Algorithm
    digits: int
    period: int
    issuer: str
    drift_steps: int
    secret_length: int
    registration_timeout_seconds: int
    allow_secret_retrieval: bool
    created_dtm: Dtm
    last_updated_dtm: Dtm


class TotpPolicyFields(RequestBody):
    """The settable fields of a TOTP policy; absent ones keep their value (or default)."""

    emitted_as = (TotpPolicyOut,)

    description: Description | None = None
    algorithm: Annotated[Algorithm | None, NotNull] = None
    digits: Annotated[Digits | None, NotNull] = None
    period: Annotated[Period | None, NotNull] = None
    issuer: Issuer | None = None
    drift_steps: Annotated[DriftSteps | None, NotNull] = None
    secret_length: SecretLength | None = None
    registration_timeout_seconds: Annotated[RegistrationTimeout | None, NotNull] = None
    allow_secret_retrieval: Annotated[StrictBool | None, NotNull] = None


class TotpPolicyIn(TotpPolicyFields):
    """A policy created with POST …/totpPolicy."""

    name: PolicyName


class TotpPolicyPatch(TotpPolicyFields):
    """A policy update, or a policy inside `configuration.totpPolicies` (its map key names it)."""

    name: Annotated[PolicyName | None, NotNull] = None


class UserLockingOut(ResponseBody):
    enabled: bool
    modality_lock_threshold: int
    modality_lock_seconds: int
    user_lock_threshold: int
    user_temp_lock_seconds: int
    max_temp_locks: int


class UserLockingIn(RequestBody):
    emitted_as = (UserLockingOut,)

    enabled: Annotated[StrictBool | None, NotNull] = None
    modality_lock_threshold: Annotated[Threshold | None, NotNull] = None
    modality_lock_seconds: Annotated[LockSeconds | None, NotNull] = None
    user_lock_threshold: Annotated[Threshold | None, NotNull] = None
    user_temp_lock_seconds: Annotated[TempLockSeconds | None, NotNull] = None
    max_temp_locks: Annotated[MaxTempLocks | None, NotNull] = None


Locale = Annotated[
    StrictStr, Field(pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$", max_length=35), Storable
]


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone") from None
    return name


TimeZone = Annotated[StrictStr, Field(max_length=64), Storable, AfterValidator(_known_timezone)]


# The bound: 256 configurations as read back are well past the 64 KiB a body may hold, so it
# never refuses a store written back that the body limit lets through.
RelyingParties = Field(
    max_length=256,
    description="Keyed by rpId. Each entry creates or updates that relying party's configuration "
    "as its own route does (same checks and codes); entries absent are untouched, an entry as "
    "stored changes nothing, and an entry's `rpId`, if given, must be its key.",
)


class ConfigurationOut(ResponseBody):
    default_user_status: str
    default_user_locale: str | None = None
    default_user_timezone: str | None = None
    user_locking: UserLockingOut
    totp_policies: dict[str, TotpPolicyOut]
    passkey_policies: dict[str, PasskeyConfigOut]
    appkey_policies: dict[str, AppkeyConfigOut]
    face_match_threshold: float
    face_retain_images: bool


class ConfigurationIn(RequestBody):
    emitted_as = (ConfigurationOut,)

    default_user_status: Annotated[Literal["ACTIVE", "PENDING_ACTIVE"] | None, NotNull] = None
    default_user_locale: Locale | None = None
    default_user_timezone: TimeZone | None = None
    user_locking: Annotated[UserLockingIn | None, NotNull] = None
    # More than a store may hold cannot be written in one request either (services/policies.py).
    totp_policies: Annotated[
        dict[PolicyName, TotpPolicyPatch] | None, NotNull, Field(max_length=MAX_POLICIES_PER_STORE)
    ] = None
    # Each entry creates or updates its relying party's configuration as …/passkeyConfig and
    # …/appkeyConfig do (services/store_relying_parties.py); entries absent are untouched.
    passkey_policies: Annotated[dict[RpId, PasskeyConfigPatch] | None, NotNull, RelyingParties] = (
        None
    )
    appkey_policies: Annotated[dict[RpId, AppkeyConfigPatch] | None, NotNull, RelyingParties] = None
    face_match_threshold: Annotated[Score | None, NotNull] = None
    face_retain_images: Annotated[StrictBool | None, NotNull] = None


class StoreOut(ResponseBody):
    id: str
    tenant_id: str
    name: str
    description: str | None = None
    configuration: ConfigurationOut
    created_dtm: Dtm
    last_updated_dtm: Dtm


class StoreIn(RequestBody):
    emitted_as = (StoreOut,)

    name: SegmentName
    description: Description | None = None
    configuration: ConfigurationIn | None = None


class StorePatch(RequestBody):
    emitted_as = (StoreOut,)

    name: Annotated[SegmentName | None, NotNull] = None
    description: Description | None = None
    configuration: Annotated[ConfigurationIn | None, NotNull] = None
