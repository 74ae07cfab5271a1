"""Routes for a user's face (spec §11): enrolment, matching, and failures the client saw, each
with its `/ext` twin keyed by external id as the changelog spells it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from idstore.api.common import answers
from idstore.api.examples import biometrics as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.presenters import json_response, user_out
from idstore.api.routing import PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.audit import FaceAuthenticationOut
from idstore.api.schemas.biometrics import BiometricEnrolIn, BiometricFailureIn, FaceMatchIn
from idstore.api.schemas.users import UserOut
from idstore.services import face_attempts, face_enrolment
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    AuthenticatorDisabled,
    ModalityLocked,
    StoreNotFound,
    UserDisabled,
    UserLocked,
    UserNotActive,
    UserNotFound,
)
from idstore.services.face_attempts import MatchRequest
from idstore.services.face_errors import (
    AlgorithmNotSupported,
    BiometricDataMissing,
    BiometricSubtypeNotSupported,
    BiometricTypeNotServed,
    BiometricTypeUnknown,
    FaceCountWrong,
    FaceNotMatched,
    ImageUnreadable,
    MatchFault,
    NoEnrolledFace,
    StoredThresholdOutOfRange,
    TemplateFault,
    ThresholdOutOfRange,
)

router = APIRouter(prefix="/api/identity-store/stores", tags=["biometrics"])

BIOMETRICS = f"/{segment('storeName')}/users/{{user}}/biometrics"
_USER = (StoreNotFound, UserNotFound, NUL_IN_STORE_NAME)
_STANDING = (UserDisabled, UserLocked, UserNotActive, ModalityLocked)


@user_route(
    router,
    "POST",
    f"{BIOMETRICS}/{segment('type')}",
    operation_id="enrolBiometric",
    ext_param="extId",
    response_model=UserOut,
    response_model_exclude_none=True,
    responses=answers(
        examples.USER_WITH_FACE,
        *_USER,
        BiometricTypeNotServed,
        BiometricTypeUnknown,
        BiometricSubtypeNotSupported,
        BiometricDataMissing,
        ImageUnreadable,
        FaceCountWrong,
        TemplateFault,
    ),
)
async def enrol(
    storeName: PathText,
    user: UserRef,
    type: PathText,  # the changelog's name of the path parameter
    body: Annotated[BiometricEnrolIn, Body(openapi_examples=examples.ENROL_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("enrolBiometric")],
) -> UserOut:
    """Enrol the user's face (`type` FACE) from a JPEG or PNG holding exactly one face; a
    second enrolment replaces the first. Answers the updated user."""
    enrolled = await face_enrolment.enrol_face(
        run.database,
        run.keyring,
        run.face_workers,
        ctx,
        store_name=storeName,
        ref=user,
        type_name=type,
        subtype_name=body.subtype,
        data=body.data,
    )
    return user_out(enrolled)


@user_route(
    router,
    "POST",
    f"{BIOMETRICS}/authentications/face",
    operation_id="authenticateFace",
    ext_param="extId",
    response_model=FaceAuthenticationOut,
    responses=answers(
        examples.MATCHED,
        *_USER,
        *_STANDING,
        BiometricDataMissing,
        AlgorithmNotSupported,
        ThresholdOutOfRange,
        StoredThresholdOutOfRange,
        ImageUnreadable,
        NoEnrolledFace,
        AuthenticatorDisabled,
        FaceCountWrong,
        FaceNotMatched,
        MatchFault,
        attempt=True,
    ),
)
async def authenticate(
    storeName: PathText,
    user: UserRef,
    body: Annotated[FaceMatchIn, Body(openapi_examples=examples.MATCH_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("authenticateFace")],
) -> Response:
    """Match the image against the user's face: `200` with the score, or `400` 3500 with the
    updated user when the score is under the threshold."""
    matched = await face_attempts.match(
        run.database,
        run.keyring,
        run.face_workers,
        ctx,
        store_name=storeName,
        ref=user,
        request=MatchRequest(body.data, body.matching_algorithm, body.match_threshold),
        rate=run.attempt_rate,
    )
    answer = FaceAuthenticationOut(
        user=user_out(matched.user),
        score=matched.score,
        authentication_id=matched.authentication_id,
    )
    return json_response(answer)


@user_route(
    router,
    "POST",
    f"{BIOMETRICS}/authentications/failure",
    operation_id="recordBiometricFailure",
    response_model=UserOut,
    response_model_exclude_none=True,
    responses=answers(
        examples.USER_AFTER_FACE_FAILURE,
        *_USER,
        *_STANDING,
        BiometricTypeNotServed,
        BiometricTypeUnknown,
        attempt=True,
    ),
)
async def record_failure(
    storeName: PathText,
    user: UserRef,
    body: Annotated[BiometricFailureIn, Body(openapi_examples=examples.FAILURE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("recordBiometricFailure")],
) -> UserOut:
    """Record a failure the client saw (a liveness check, say): audited and counted toward the
    Face modality's lock. Answers the updated user."""
    updated = await face_attempts.record_failure(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        type_name=body.type,
        reason=body.reason,
        rate=run.attempt_rate,
    )
    return user_out(updated)
