"""Domain objects to response bodies: the one place that knows both shapes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from fastapi import Response
from pydantic import BaseModel

from idstore.api.schemas.appkeys import AppkeyConfigOut, AppkeyOut
from idstore.api.schemas.audit import (
    AppkeyInfoOut,
    AuditRecordOut,
    AuthAuditDisplayInfoOut,
    AuthAuditRecordOut,
    FaceInfoOut,
    PasskeyInfoOut,
    TotpAuditInfoOut,
    TotpInfoOut,
)
from idstore.api.schemas.biometrics import BiometricOut
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.passkeys import PasskeyConfigOut, PasskeyOut, PasskeyPolicyOut
from idstore.api.schemas.stores import (
    ConfigurationOut,
    StoreOut,
    TotpPolicyOut,
    UserLockingOut,
)
from idstore.api.schemas.totps import UserTotpOut
from idstore.api.schemas.users import (
    LocksOut,
    ModalityLockOut,
    SummaryInfoOut,
    UserLockOut,
    UserOut,
    UserSlimOut,
)
from idstore.services import locking
from idstore.services.appkey_policies import (
    authentication_policies_to_json,
    registration_policies_to_json,
)
from idstore.services.face_models import UserBiometric
from idstore.services.models import (
    AppkeyConfig,
    AuditRecord,
    JsonObject,
    PasskeyConfig,
    PasskeyPolicy,
    Store,
    TotpPolicy,
    User,
    UserAppkey,
    UserPasskey,
    UserTotp,
)
from idstore.services.paging import Page
from idstore.services.policies import effective_issuer, effective_secret_length
from idstore.services.user_keys import KeyRegistration

T = TypeVar("T")
Out = TypeVar("Out")
Info = TypeVar("Info", bound=BaseModel)
Registration = TypeVar("Registration", bound=BaseModel)


def json_response(body: BaseModel) -> Response:
    """The body serialised here, once, as an authentication route answers it: FastAPI would
    validate the model again before dumping it, on the route the service exists for. The
    route's declared response_model still documents the body."""
    return Response(
        body.model_dump_json(by_alias=True, exclude_none=True), media_type="application/json"
    )


def page_out(page: Page[T], present: Callable[[T], Out]) -> PageOut[Out]:
    total_pages = math.ceil(page.total_elements / page.size) if page.size else 0
    return PageOut[Out](
        content=[present(item) for item in page.items],
        number=page.number,
        size=page.size,
        number_of_elements=len(page.items),
        total_elements=page.total_elements,
        total_pages=total_pages,
        first=page.number == 0,
        last=page.number >= total_pages - 1,
        empty=not page.items,
    )


def policy_out(policy: TotpPolicy, store_name: str) -> TotpPolicyOut:
    return TotpPolicyOut(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        algorithm=policy.algorithm,
        digits=policy.digits,
        period=policy.period,
        issuer=effective_issuer(policy, store_name),
        drift_steps=policy.drift_steps,
        secret_length=effective_secret_length(policy),
        registration_timeout_seconds=policy.registration_timeout_seconds,
        allow_secret_retrieval=policy.allow_secret_retrieval,
        created_dtm=policy.created_dtm,
        last_updated_dtm=policy.last_updated_dtm,
    )


def store_out(store: Store) -> StoreOut:
    configuration = store.configuration
    locking_policy = configuration.user_locking
    return StoreOut(
        id=store.id,
        tenant_id=store.tenant_id,
        name=store.name,
        description=store.description,
        configuration=ConfigurationOut(
            default_user_status=configuration.default_user_status,
            default_user_locale=configuration.default_user_locale,
            default_user_timezone=configuration.default_user_timezone,
            user_locking=UserLockingOut(**locking_policy.__dict__),
            totp_policies={
                name: policy_out(policy, store.name) for name, policy in store.totp_policies.items()
            },
            passkey_policies={
                rp_id: passkey_config_out(config) for rp_id, config in store.passkey_configs.items()
            },
            appkey_policies={
                rp_id: appkey_config_out(config) for rp_id, config in store.appkey_configs.items()
            },
            face_match_threshold=configuration.face_match_threshold,
            face_retain_images=configuration.face_retain_images,
        ),
        created_dtm=store.created_dtm,
        last_updated_dtm=store.last_updated_dtm,
    )


def passkey_policy_out(policy: PasskeyPolicy) -> PasskeyPolicyOut:
    return PasskeyPolicyOut(
        user_verification=policy.user_verification,
        resident_key=policy.resident_key,
        attestation=policy.attestation,
        authenticator_attachment=policy.authenticator_attachment,
        algorithms=list(policy.algorithms),
        timeout_seconds=policy.timeout_seconds,
    )


def passkey_config_out(config: PasskeyConfig) -> PasskeyConfigOut:
    return PasskeyConfigOut(
        id=config.id,
        rp_id=config.rp_id,
        rp_name=config.rp_name,
        restricted_origins=list(config.restricted_origins),
        session_management=config.session_management,
        registration_policies={
            name: passkey_policy_out(policy)
            for name, policy in config.registration_policies.items()
        },
        authentication_policies={
            name: passkey_policy_out(policy)
            for name, policy in config.authentication_policies.items()
        },
        created_dtm=config.created_dtm,
        last_updated_dtm=config.last_updated_dtm,
    )


def passkey_out(passkey: UserPasskey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.id,
        credential_id=passkey.credential_id,
        rp_id=passkey.rp_id,
        status=passkey.status,
        sign_count=passkey.sign_count,
        aaguid=passkey.aaguid,
        transports=list(passkey.transports),
        backup_eligible=passkey.backup_eligible,
        backup_state=passkey.backup_state,
        user_handle=passkey.user_handle,
        created_dtm=passkey.created_dtm,
        last_updated_dtm=passkey.last_updated_dtm,
        last_authenticated_with_dtm=passkey.last_authenticated_with_dtm,
    )


def biometric_out(biometric: UserBiometric) -> BiometricOut:
    return BiometricOut(
        id=biometric.id,
        type=biometric.type,
        subtype=biometric.subtype,
        status=biometric.status,
        created_dtm=biometric.created_dtm,
        quality=biometric.quality,
    )


def totp_out(totp: UserTotp) -> UserTotpOut:
    return UserTotpOut(
        id=totp.id,
        created_dtm=totp.created_dtm,
        last_updated_dtm=totp.last_updated_dtm,
        status=totp.status,
        issuer=totp.issuer,
        username=totp.username,
        policy_name=totp.policy_name,
        algorithm=totp.algorithm,
        digits=totp.digits,
        period=totp.period,
        activated_dtm=totp.activated_dtm,
        expiration_dtm=totp.expiration_dtm,
        last_authenticated_with_dtm=totp.last_authenticated_with_dtm,
    )


def locks_out(user: User) -> LocksOut:
    state = user.lock_state
    user_lock = None
    if locking.user_lock_holds(state, user.as_of) and state.locked_dtm is not None:
        user_lock = UserLockOut(
            status=user.status, locked_dtm=state.locked_dtm, unlock_dtm=state.unlock_dtm
        )
    modalities = {
        str(modality): ModalityLockOut(
            failed_attempts=lock.failed_attempts,
            locked_dtm=lock.locked_dtm,
            unlock_dtm=lock.unlock_dtm,
        )
        for modality, lock in state.modalities.items()
    }
    return LocksOut(user=user_lock, modalities=modalities)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        external_id=user.external_id,
        store_id=user.store_id,
        status=user.status,
        type=user.type,
        locale=user.locale,
        timezone=user.timezone,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        date_of_birth=user.date_of_birth,
        nationalities=user.nationalities,
        attributes=user.attributes,
        created_dtm=user.created_dtm,
        last_updated_dtm=user.last_updated_dtm,
        last_successful_authentication_dtm=user.last_successful_authentication_dtm,
        lock_count=user.lock_state.lock_count,
        locks=locks_out(user),
        summary_info=SummaryInfoOut(
            biometrics=[biometric_out(biometric) for biometric in user.biometrics],
            appkeys=[appkey_out(appkey) for appkey in user.appkeys],
            passkeys=[passkey_out(passkey) for passkey in user.passkeys],
            totps=[totp_out(totp) for totp in user.totps],
        ),
    )


def appkey_config_out(config: AppkeyConfig) -> AppkeyConfigOut:
    # The policies' stored JSON is already the contract's shape.
    return AppkeyConfigOut.model_validate(
        {
            "id": config.id,
            "rpId": config.rp_id,
            "trustedFacets": list(config.trusted_facets),
            "sessionManagement": str(config.session_management),
            "singleShotWindowSeconds": config.single_shot_window_seconds,
            "registrationPolicies": registration_policies_to_json(config.registration_policies),
            "authenticationPolicies": authentication_policies_to_json(
                config.authentication_policies
            ),
            "createdDtm": config.created_dtm,
            "lastUpdatedDtm": config.last_updated_dtm,
        }
    )


def appkey_out(appkey: UserAppkey) -> AppkeyOut:
    return AppkeyOut(
        id=appkey.id,
        key_id=appkey.key_id,
        aaid=appkey.aaid,
        rp_id=appkey.rp_id,
        type=appkey.type,
        device_id=appkey.device_id,
        device_name=appkey.device_name,
        status=appkey.status,
        sign_count=appkey.sign_count,
        attestation_type=appkey.attestation_type,
        created_dtm=appkey.created_dtm,
        last_authenticated_with_dtm=appkey.last_authenticated_with_dtm,
        preferred=appkey.preferred,
    )


def user_slim_out(user: User) -> UserSlimOut:
    return UserSlimOut(
        id=user.id,
        external_id=user.external_id,
        status=user.status,
        store_id=user.store_id,
        created_dtm=user.created_dtm,
        last_updated_dtm=user.last_updated_dtm,
    )


def audit_record_out(record: AuditRecord) -> AuditRecordOut:
    totp_info = _stored_info(TotpInfoOut, record.details, "totpInfo")
    display = AuthAuditDisplayInfoOut()
    if totp_info is not None:
        display = AuthAuditDisplayInfoOut(
            totp_audit_info=TotpAuditInfoOut(
                policy_name=totp_info.policy_name,
                algorithm=totp_info.algorithm,
                registration_created_dtm=totp_info.registration_created_dtm,
                registration_activated_dtm=totp_info.registration_activated_dtm,
                authentication_dtm=record.created_dtm,
            )
        )
    return AuditRecordOut(
        auth_audit_record=AuthAuditRecordOut(
            id=record.id,
            tenant_id=record.tenant_id,
            store_id=record.store_id,
            user_id=record.user_id,
            type=record.type,
            result=record.result,
            error_code=record.error_code,
            created_dtm=record.created_dtm,
            totp_info=totp_info,
            passkey_info=_stored_info(PasskeyInfoOut, record.details, "passkeyInfo"),
            face_info=_stored_info(FaceInfoOut, record.details, "faceInfo"),
            appkey_info=_stored_info(AppkeyInfoOut, record.details, "appkeyInfo"),
        ),
        auth_audit_display_info=display,
    )


def registration_out(model: type[Registration], registration: KeyRegistration) -> Registration:
    """The key's registration audit, with its completion's record as `audit_record_out` shows
    it when there is one (else without the two fields)."""
    fields: dict[str, object] = dict(registration.audit)
    if registration.record is not None:
        shown = audit_record_out(registration.record)
        fields["authAuditRecord"] = shown.auth_audit_record
        fields["authAuditDisplayInfo"] = shown.auth_audit_display_info
    return model.model_validate(fields)


def _stored_info(model: type[Info], details: JsonObject, name: str) -> Info | None:
    """The record's `name` details read as `model`; None where the record has none."""
    stored = details.get(name)
    return model.model_validate(stored) if isinstance(stored, dict) else None
