"""The domain as services see it: plain frozen dataclasses, no HTTP and no SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeAlias, TypeVar

from idstore.face.scoring import DEFAULT_MATCH_THRESHOLD
from idstore.otp import Algorithm
from idstore.services.face_models import UserBiometric

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]
Model = TypeVar("Model")


def replaced(model: Model, **changes: Any) -> Model:
    """A copy of one of these models with `changes`, equal to what `dataclasses.replace` makes.

    A tenth of its time, and an attempt copies the user and its lock state several times: the
    fields are copied as they are and no `__init__` runs, which these models (frozen, without
    slots, `__post_init__` or `init=False` fields) do not need. Raises TypeError for a name that
    is not a field.
    """
    kind: type = type(model)
    unknown = changes.keys() - _field_names(kind)
    if unknown:
        raise TypeError(f"{kind.__name__} has no field {sorted(unknown)[0]!r}")
    copy: Model = object.__new__(kind)
    vars(copy).update(vars(model), **changes)
    return copy


@cache
def _field_names(kind: type) -> frozenset[str]:
    return frozenset(item.name for item in fields(kind))


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PENDING_ACTIVE = "PENDING_ACTIVE"
    DISABLED = "DISABLED"
    LOCKED = "LOCKED"
    TEMP_LOCKED = "TEMP_LOCKED"


class TotpStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class Modality(StrEnum):
    """Authentication modalities, named as the audit record types name them."""

    TOTP = "TOTP"
    PASSKEY = "Passkey"
    APPKEY = "Appkey"
    FACE = "Face"


class AuditType(StrEnum):
    """The audit record types of spec §7: the modalities, and voice, which a filter may name
    before voice exists (its records are then none)."""

    TOTP = "TOTP"
    PASSKEY = "Passkey"
    APPKEY = "Appkey"
    FACE = "Face"
    VOICE_TD = "Voice_TD"
    VOICE_TI = "Voice_TI"


class AuditResult(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class LockKind(StrEnum):
    TEMPORARY = "TEMPORARY"
    PERMANENT = "PERMANENT"


@dataclass(frozen=True)
class LockingPolicy:
    """`configuration.userLocking` of a store (spec §6)."""

    enabled: bool = True
    modality_lock_threshold: int = 5
    modality_lock_seconds: int = 300
    user_lock_threshold: int = 10
    user_temp_lock_seconds: int = 900
    max_temp_locks: int = 3


@dataclass(frozen=True)
class StoreConfiguration:
    """A store's settings, everything but its policy maps."""

    default_user_status: UserStatus = UserStatus.ACTIVE
    default_user_locale: str | None = None
    default_user_timezone: str | None = None
    user_locking: LockingPolicy = field(default_factory=LockingPolicy)
    # The model's own same-person boundary on its score scale (docs/face.md).
    face_match_threshold: float = DEFAULT_MATCH_THRESHOLD
    face_retain_images: bool = False


@dataclass(frozen=True)
class TotpPolicy:
    id: str
    store_id: str
    name: str
    description: str | None
    algorithm: Algorithm
    digits: int
    period: int
    issuer: str | None
    drift_steps: int
    secret_length: int | None
    registration_timeout_seconds: int
    allow_secret_retrieval: bool
    created_dtm: datetime
    last_updated_dtm: datetime


@dataclass(frozen=True)
class Store:
    id: str
    tenant_id: str
    name: str
    description: str | None
    configuration: StoreConfiguration
    totp_policies: Mapping[str, TotpPolicy]
    created_dtm: datetime
    last_updated_dtm: datetime
    passkey_configs: Mapping[str, PasskeyConfig] = field(default_factory=dict)
    appkey_configs: Mapping[str, AppkeyConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class UserTotp:
    """A user's TOTP authenticator; its secret stays sealed and never travels in this object."""

    id: str
    user_id: str
    policy_id: str
    policy_name: str
    status: TotpStatus
    issuer: str
    username: str
    algorithm: Algorithm
    digits: int
    period: int
    last_used_step: int
    created_dtm: datetime
    last_updated_dtm: datetime
    activated_dtm: datetime | None
    expiration_dtm: datetime | None
    last_authenticated_with_dtm: datetime | None

    def is_expired(self, now: datetime) -> bool:
        """A pending registration past its deadline counts as gone."""
        return (
            self.status is TotpStatus.PENDING
            and self.expiration_dtm is not None
            and self.expiration_dtm <= now
        )


@dataclass(frozen=True)
class ModalityLock:
    failed_attempts: int = 0
    locked_dtm: datetime | None = None
    unlock_dtm: datetime | None = None


@dataclass(frozen=True)
class LockState:
    """The locking counters of one user, as stored on the user row."""

    failed_attempts: int = 0
    lock_count: int = 0
    temp_lock_streak: int = 0
    lock_kind: LockKind | None = None
    locked_dtm: datetime | None = None
    unlock_dtm: datetime | None = None
    modalities: Mapping[Modality, ModalityLock] = field(default_factory=dict)
    # The attempt rate limit's bucket: tokens left as of `attempt_tokens_dtm` (None: full).
    attempt_tokens: float | None = None
    attempt_tokens_dtm: datetime | None = None


@dataclass(frozen=True)
class User:
    """A user as of one instant: `status` already shows a lock that holds at that instant."""

    id: str
    store_id: str
    external_id: str
    status: UserStatus
    admin_status: UserStatus
    type: str | None
    locale: str | None
    timezone: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    date_of_birth: date | None
    nationalities: list[str] | None
    attributes: JsonObject | None
    created_dtm: datetime
    last_updated_dtm: datetime
    last_successful_authentication_dtm: datetime | None
    lock_state: LockState
    as_of: datetime
    totps: tuple[UserTotp, ...] = ()
    passkeys: tuple[UserPasskey, ...] = ()
    biometrics: tuple[UserBiometric, ...] = ()
    appkeys: tuple[UserAppkey, ...] = ()
    # Hash of the user's newest authentication audit record, and how many records the chain
    # holds (services/audit_chain.py).
    audit_chain_head: str | None = None
    audit_chain_length: int = 0


@dataclass(frozen=True)
class AuditRecord:
    id: str
    tenant_id: str
    store_id: str
    user_id: str
    type: Modality
    result: AuditResult
    error_code: int | None
    created_dtm: datetime
    details: JsonObject
    chain_hash: str | None = None


class PasskeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class SessionManagement(StrEnum):
    """Where a ceremony's challenge waits: in the database, or sealed in the caller's hands."""

    INTERNAL = "INTERNAL"
    EXTERNAL = "EXTERNAL"


# COSE algorithm ids (RFC 9053): ES256, EdDSA, RS256.
DEFAULT_PASSKEY_ALGORITHMS = (-7, -8, -257)


@dataclass(frozen=True)
class PasskeyPolicy:
    """One registration or authentication policy of a relying party (spec §9)."""

    user_verification: str = "preferred"
    resident_key: str = "preferred"
    attestation: str = "none"
    authenticator_attachment: str | None = None
    algorithms: tuple[int, ...] = DEFAULT_PASSKEY_ALGORITHMS
    timeout_seconds: int = 300


@dataclass(frozen=True)
class PasskeyConfig:
    """A relying party's passkey configuration within a store."""

    id: str
    store_id: str
    rp_id: str
    rp_name: str
    restricted_origins: tuple[str, ...]
    session_management: SessionManagement
    registration_policies: Mapping[str, PasskeyPolicy]
    authentication_policies: Mapping[str, PasskeyPolicy]
    created_dtm: datetime
    last_updated_dtm: datetime


@dataclass(frozen=True)
class UserPasskey:
    """A user's WebAuthn credential; its public key stays in the row."""

    id: str
    user_id: str
    rp_id: str
    credential_id: str
    status: PasskeyStatus
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backup_state: bool
    user_handle: str
    created_dtm: datetime
    last_updated_dtm: datetime
    last_authenticated_with_dtm: datetime | None


class AppkeyType(StrEnum):
    """What unlocks an appkey on its device: the device alone, or a biometric check on it."""

    DEVICE = "DEVICE"
    BIOMETRIC = "BIOMETRIC"


class AppkeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class AppkeyRegistrationPolicy:
    """One appkey registration policy (spec §10); empty `aaids` accepts any authenticator,
    `attestation` None accepts either attestation type."""

    key_types: tuple[AppkeyType, ...] = (AppkeyType.DEVICE, AppkeyType.BIOMETRIC)
    aaids: tuple[str, ...] = ()
    attestation: str | None = None
    # Base64 DER of the CA certificates that BASIC_FULL attestations must chain to.
    attestation_root_certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppkeyAuthenticationPolicy:
    key_types: tuple[AppkeyType, ...] = (AppkeyType.DEVICE, AppkeyType.BIOMETRIC)
    timeout_seconds: int = 300


@dataclass(frozen=True)
class AppkeyConfig:
    """A relying party's appkey configuration within a store."""

    id: str
    store_id: str
    rp_id: str
    trusted_facets: tuple[str, ...]
    session_management: SessionManagement
    single_shot_window_seconds: int
    registration_policies: Mapping[str, AppkeyRegistrationPolicy]
    authentication_policies: Mapping[str, AppkeyAuthenticationPolicy]
    created_dtm: datetime
    last_updated_dtm: datetime


@dataclass(frozen=True)
class UserAppkey:
    """A user's UAF key; its public key and registration audit stay in the row."""

    id: str
    user_id: str
    rp_id: str
    aaid: str
    key_id: str
    type: AppkeyType
    device_id: str | None
    device_name: str | None
    status: AppkeyStatus
    sign_count: int
    attestation_type: str
    preferred: bool
    created_dtm: datetime
    last_updated_dtm: datetime
    last_authenticated_with_dtm: datetime | None
