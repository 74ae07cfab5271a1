"""Appkey configurations and user appkeys (spec §10)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from idstore.api.schemas.common import (
    Dtm,
    Integer,
    Name,
    NotNull,
    RequestBody,
    ResponseBody,
    Storable,
    StoreConfigurationBeside,
    StrictStr,
)

KeyType = Literal["DEVICE", "BIOMETRIC"]
KeyTypes = Annotated[list[KeyType], Field(min_length=1, max_length=2)]
RpId = Annotated[StrictStr, Field(min_length=1, max_length=253), Storable]
FacetId = Annotated[StrictStr, Field(min_length=1, max_length=512), Storable]
Aaid = Annotated[StrictStr, Field(min_length=9, max_length=9), Storable]
# Base64 DER; a CA certificate is rarely more than a few kilobytes.
Certificate = Annotated[StrictStr, Field(min_length=1, max_length=16384), Storable]
DeviceId = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]


class AppkeyRegistrationPolicyOut(ResponseBody):
    key_types: list[str]
    aaids: list[str]
    attestation: str | None = None
    attestation_root_certificates: list[str]


class AppkeyAuthenticationPolicyOut(ResponseBody):
    key_types: list[str]
    timeout_seconds: int


class AppkeyRegistrationPolicyIn(RequestBody):
    """A registration policy; absent fields keep their value (or default)."""

    emitted_as = (AppkeyRegistrationPolicyOut,)

    key_types: Annotated[KeyTypes | None, NotNull] = None
    aaids: Annotated[list[Aaid] | None, NotNull, Field(max_length=64)] = None
    # Absent accepts either attestation type; null clears a value set before.
    attestation: Literal["BASIC_FULL", "BASIC_SURROGATE"] | None = None
    attestation_root_certificates: Annotated[
        list[Certificate] | None, NotNull, Field(max_length=8)
    ] = None


class AppkeyAuthenticationPolicyIn(RequestBody):
    emitted_as = (AppkeyAuthenticationPolicyOut,)

    key_types: Annotated[KeyTypes | None, NotNull] = None
    timeout_seconds: Annotated[Integer | None, NotNull, Field(ge=10, le=3600)] = None


class AppkeyConfigOut(ResponseBody):
    id: str
    rp_id: str
    trusted_facets: list[str]
    session_management: str
    single_shot_window_seconds: int
    registration_policies: dict[str, AppkeyRegistrationPolicyOut]
    authentication_policies: dict[str, AppkeyAuthenticationPolicyOut]
    created_dtm: Dtm
    last_updated_dtm: Dtm


class AppkeyConfigFields(RequestBody):
    emitted_as = (AppkeyConfigOut, StoreConfigurationBeside)

    trusted_facets: Annotated[list[FacetId] | None, NotNull, Field(max_length=64)] = None
    session_management: Annotated[Literal["INTERNAL", "EXTERNAL"] | None, NotNull] = None
    single_shot_window_seconds: Annotated[Integer | None, NotNull, Field(ge=1, le=3600)] = None
    registration_policies: Annotated[
        dict[Name, AppkeyRegistrationPolicyIn] | None, NotNull, Field(max_length=32)
    ] = None
    authentication_policies: Annotated[
        dict[Name, AppkeyAuthenticationPolicyIn] | None, NotNull, Field(max_length=32)
    ] = None


class AppkeyConfigIn(AppkeyConfigFields):
    """A configuration created with POST …/appkeyConfig."""

    rp_id: RpId


class AppkeyConfigPatch(AppkeyConfigFields):
    """A configuration update, or an entry of a store's `configuration.appkeyPolicies`; `rpId`,
    if given, must be the one in the path (or the entry's key)."""

    rp_id: Annotated[RpId | None, NotNull] = None


class TrustedFacetListOut(ResponseBody):
    version: dict[str, int]
    ids: list[str]


class TrustedFacetsOut(ResponseBody):
    """The UAF TrustedFacets document (content type application/fido.trusted-apps+json)."""

    trusted_facets: list[TrustedFacetListOut]


class AppkeyOut(ResponseBody):
    id: str
    key_id: str
    aaid: str
    rp_id: str
    type: str
    device_id: str | None = None
    device_name: str | None = None
    status: str
    sign_count: int
    attestation_type: str
    created_dtm: Dtm
    last_authenticated_with_dtm: Dtm | None = None
    preferred: bool


class AppkeyStatusIn(RequestBody):
    """An appkey update: its status, or nothing (`{}` changes nothing); the appkey as read
    back may be sent, its other fields ignored (spec §1)."""

    emitted_as = (AppkeyOut,)

    status: Annotated[Literal["ACTIVE", "DISABLED"] | None, NotNull] = None


class AppkeyRegistrationAuditOut(ResponseBody):
    aaid: str
    attestation_type: str
    attestation_subject: str | None = None
    facet_id: str | None = None
    device_id: str | None = None
    device_name: str | None = None
    authenticator_version: int | None = None


class DeregistrationIn(RequestBody):
    type: Literal["DEVICE", "BIOMETRIC", "ALL"]
    device_id: DeviceId | None = None


class PreferredDeviceIn(RequestBody):
    device_id: DeviceId
