"""Passkey configurations, ceremonies and user passkeys (spec §9)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from idstore.api.schemas.common import (
    Dtm,
    Integer,
    JsonInteger,
    Name,
    NotNull,
    RequestBody,
    ResponseBody,
    Storable,
    StoreConfigurationBeside,
    StrictStr,
)

Requirement = Literal["required", "preferred", "discouraged"]
Algorithm = Annotated[Literal[-7, -8, -257], JsonInteger]
RpId = Annotated[StrictStr, Field(min_length=1, max_length=253), Storable]
OriginText = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]
Label = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]
SessionData = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]*$", max_length=8192)]


class PasskeyPolicyOut(ResponseBody):
    user_verification: str
    resident_key: str
    attestation: str
    authenticator_attachment: str | None = None
    algorithms: list[int]
    timeout_seconds: int


class PasskeyPolicyIn(RequestBody):
    """A registration or authentication policy; absent fields keep their value (or default)."""

    emitted_as = (PasskeyPolicyOut,)

    user_verification: Annotated[Requirement | None, NotNull] = None
    resident_key: Annotated[Requirement | None, NotNull] = None
    attestation: Annotated[Literal["none", "indirect", "direct", "enterprise"] | None, NotNull] = (
        None
    )
    authenticator_attachment: Literal["platform", "cross-platform"] | None = None
    algorithms: Annotated[list[Algorithm] | None, NotNull, Field(min_length=1, max_length=3)] = None
    timeout_seconds: Annotated[Integer | None, NotNull, Field(ge=10, le=3600)] = None


Policies = Annotated[dict[Name, PasskeyPolicyIn], Field(max_length=32)]


class PasskeyConfigOut(ResponseBody):
    id: str
    rp_id: str
    rp_name: str
    restricted_origins: list[str]
    session_management: str
    registration_policies: dict[str, PasskeyPolicyOut]
    authentication_policies: dict[str, PasskeyPolicyOut]
    created_dtm: Dtm
    last_updated_dtm: Dtm


class PasskeyConfigFields(RequestBody):
    emitted_as = (PasskeyConfigOut, StoreConfigurationBeside)

    rp_name: Annotated[Label | None, NotNull] = None
    restricted_origins: Annotated[list[OriginText] | None, NotNull, Field(max_length=64)] = None
    session_management: Annotated[Literal["INTERNAL", "EXTERNAL"] | None, NotNull] = None
    registration_policies: Annotated[Policies | None, NotNull] = None
    authentication_policies: Annotated[Policies | None, NotNull] = None


class PasskeyConfigIn(PasskeyConfigFields):
    """A configuration created with POST …/passkeyConfig."""

    rp_id: RpId


class PasskeyConfigPatch(PasskeyConfigFields):
    """A configuration update, or an entry of a store's `configuration.passkeyPolicies`; `rpId`,
    if given, must be the one in the path (or the entry's key)."""

    rp_id: Annotated[RpId | None, NotNull] = None


class RegistrationStartIn(RequestBody):
    policy_name: Name
    user_name: Label | None = None
    display_name: Label | None = None


class AuthenticationStartIn(RequestBody):
    policy_name: Name
    user_id: Label | None = None
    user_ext_id: Label | None = None


class CeremonyStartOut(ResponseBody):
    """`sessionId` (INTERNAL) or `sessionData` (EXTERNAL), and the options for the browser."""

    session_id: str | None = None
    session_data: str | None = None
    options: dict[str, Any]


class ClientFailureIn(RequestBody):
    """What the browser reported instead of a credential."""

    reason: Literal["FAILED", "CANCELLED", "TIMED_OUT"]
    message: Annotated[StrictStr, Field(max_length=1024), Storable] | None = None


class CompleteIn(RequestBody):
    """Completion of an INTERNAL session: the credential's JSON form, or the client's failure.
    Its clientDataJSON is read as strictly as a body: a member named twice, NaN or Infinity is
    3604, however well signed. `sessionData` has no place here: sent anyway, it answers 388, as
    the changelog says."""

    client_response: dict[str, Any] | None = None
    client_failure: ClientFailureIn | None = None
    session_data: Any = None


class ExternalCompleteIn(CompleteIn):
    """Completion of an EXTERNAL session: also the sealed `sessionData` from the start."""

    session_data: SessionData | None = None


class PasskeyOut(ResponseBody):
    id: str
    credential_id: str
    rp_id: str
    status: str
    sign_count: int
    aaguid: str
    transports: list[str]
    backup_eligible: bool
    backup_state: bool
    user_handle: str
    created_dtm: Dtm
    last_updated_dtm: Dtm
    last_authenticated_with_dtm: Dtm | None = None


class PasskeyStatusIn(RequestBody):
    """A passkey update: its status, or nothing (`{}` changes nothing); the passkey as read
    back may be sent, its other fields ignored (spec §1)."""

    emitted_as = (PasskeyOut,)

    status: Annotated[Literal["ACTIVE", "DISABLED"] | None, NotNull] = None


class RegistrationAuditOut(ResponseBody):
    attestation_format: str
    aaguid: str
    origin: str
    flags: int
    user_present: bool
    user_verified: bool
    backup_eligible: bool
    backup_state: bool
    algorithm: int
    policy_name: str
    registered_dtm: Dtm
