"""Face authentication (spec §11, §6, §7): a match against the enrolled face, or a failure the
client reports, each one attempt of the Face modality.

A match runs in three steps so that no row lock is held while the model works: a plain read of
the user and the enrolled template; the model's score, in its worker pool, outside any
transaction (skipped when the read already showed a lock, so a locked modality costs no model
call); then one short transaction under the user's row lock (services/attempts.py) checks the
standing and the locks again, decides, counts and audits. Every outcome is one audit record of
type Face carrying `faceInfo`. A face that does not match counts toward the locks; a refused
image, a wrong face count or a fault counts nowhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import face
from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db.engine import Database
from idstore.services import configuration, face_engine, locking
from idstore.services.attempts import Attempt
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    AuthenticatorDisabled,
    IdstoreError,
    ModalityLocked,
    UserDisabled,
    UserLocked,
    UserNotActive,
)
from idstore.services.face_engine import FaceModel
from idstore.services.face_errors import (
    BiometricDataMissing,
    ClientReportedFailure,
    FaceNotMatched,
    MatchFault,
    NoEnrolledFace,
)
from idstore.services.face_models import BiometricStatus, BiometricSubtype
from idstore.services.face_requests import (
    check_algorithm,
    face_type,
    image_bytes,
    match_threshold,
)
from idstore.services.face_rows import face_row
from idstore.services.models import JsonObject, Modality, User, UserStatus
from idstore.services.rows import find_store, find_user_row, user_with_totps
from idstore.services.throttle import AttemptRate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceAuthentication:
    """A face matched: the updated user, the score, and the audit record's id."""

    user: User
    score: float
    authentication_id: str


@dataclass(frozen=True)
class MatchRequest:
    """A match request's fields as the client sent them (`data` is base64)."""

    data: str | None
    matching_algorithm: str | None = None
    match_threshold: float | None = None


@dataclass(frozen=True)
class _Judgement:
    """What the model (or a check before it) made of the image, before any lock is taken."""

    biometric_id: str | None = None
    threshold: float | None = None
    score: float | None = None
    refusal: IdstoreError | None = None


@dataclass(frozen=True)
class _Enrolled:
    """The user's face as a plain read found it: the face, its template, the store's
    threshold, and the refusal the user's standing or locks already earn (no model call)."""

    row: Row[Any] | None
    template: face.FaceTemplate | None
    stored_threshold: float
    blocked_by: IdstoreError | None


async def match(
    database: Database,
    keyring: KeyRing,
    model: FaceModel,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    request: MatchRequest,
    rate: AttemptRate,
) -> FaceAuthentication:
    """Match the image against the user's enrolled face (PORTRAIT).

    Raises 3000, 3100 (unaudited); then, audited with the updated user: 2102, 2100, 502, 2101,
    9005; 20114, 8, 20125, 20126, 3502 (the request); 20122 (no face, or one made by another
    model version), 2103 (face disabled), 3501 (not one face), 20121 (model fault, 500); and
    3500 (score under the threshold), the only one counted toward the locks.
    """
    enrolled = await _read_enrolled(database, keyring, ctx, store_name, ref)
    judged = await _judge(model, enrolled, request)
    async with database.transaction() as conn:
        attempt = await FaceAttempt.begin(conn, ctx, keyring, store_name, ref, rate)
        attempt.judged = judged
        await attempt.check_standing(enrolling=False)
        await attempt.check_modality()
        return await attempt.decide()


async def record_failure(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    type_name: str,
    reason: str | None,
    rate: AttemptRate,
) -> User:
    """Record a failure the client saw (a liveness check on the device, say): audited with
    error code 3800 and counted toward the Face modality's lock. Answers the updated user.

    Raises 3000, 3100, 2005, 20115 (type); audited: 2102, 2100, 502, 2101, 9005.
    """
    async with database.transaction() as conn:
        attempt = await FaceAttempt.begin(conn, ctx, keyring, store_name, ref, rate)
        face_type(type_name)  # refused unaudited, as a malformed body is
        attempt.client_reason = reason
        await attempt.check_standing(enrolling=False)
        await attempt.check_modality()
        enrolled = await face_row(
            conn,
            store_id=attempt.store_id,
            user_id=attempt.user.id,
            subtype=BiometricSubtype.PORTRAIT,
        )
        attempt.judged = _Judgement(biometric_id=None if enrolled is None else enrolled.id)
        refused = await attempt.refuse(ClientReportedFailure(), counts=True)
        assert refused.user is not None  # noqa: S101  # refuse always attaches the user
        return refused.user


async def _read_enrolled(
    database: Database, keyring: KeyRing, ctx: Context, store_name: str, ref: UserRef
) -> _Enrolled:
    """The user's standing and face, read without a lock. Raises 3000, 3100."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref)
        row = await face_row(
            conn, store_id=store.id, user_id=user_row.id, subtype=BiometricSubtype.PORTRAIT
        )
    threshold = configuration.from_json(store.configuration).face_match_threshold
    blocked_by = _blocked_by(user_with_totps(user_row, (), ctx.now), ctx)
    if row is None or blocked_by is not None:
        return _Enrolled(row, None, threshold, blocked_by)
    try:
        sealed = keyring.open(row.template_sealed, context=row.id)
        template = face.FaceTemplate.from_bytes(sealed, quality=row.quality)
    except (SealBroken, ValueError):
        log.error("face.template_unreadable", extra={"biometric_id": row.id})
        raise MatchFault() from None
    return _Enrolled(row, template, threshold, None)


def _blocked_by(user: User, ctx: Context) -> IdstoreError | None:
    """The refusal the standing checks will give, as far as an unlocked read can tell."""
    state = user.lock_state
    if user.admin_status is UserStatus.DISABLED:
        return UserDisabled()
    if locking.user_lock_holds(state, ctx.now):
        return UserLocked()
    if user.admin_status is UserStatus.PENDING_ACTIVE:
        return UserNotActive()
    if locking.modality_lock_holds(state, Modality.FACE, ctx.now):
        return ModalityLocked()
    return None


async def _judge(model: FaceModel, enrolled: _Enrolled, request: MatchRequest) -> _Judgement:
    """Check the request, then let the model score the image; never under a row lock."""
    row = enrolled.row
    biometric_id = None if row is None else row.id
    if enrolled.blocked_by is not None:
        return _Judgement(biometric_id=biometric_id, refusal=enrolled.blocked_by)
    threshold = None
    try:
        if not request.data:
            raise BiometricDataMissing()
        check_algorithm(request.matching_algorithm)
        threshold = match_threshold(request.match_threshold, enrolled.stored_threshold)
        image = image_bytes(request.data)
        template = _usable_template(enrolled)
        score = await face_engine.score_against(model, image, template)
    except IdstoreError as error:
        return _Judgement(biometric_id=biometric_id, threshold=threshold, refusal=error)
    return _Judgement(biometric_id=biometric_id, threshold=threshold, score=score)


def _usable_template(enrolled: _Enrolled) -> face.FaceTemplate:
    """The template to match against. Raises 20122 (none, or made by another model version,
    whose embeddings do not compare) or 2103 (the face is disabled)."""
    row = enrolled.row
    if row is None or enrolled.template is None or row.model_version != face.MODEL_VERSION:
        raise NoEnrolledFace()
    if row.status != str(BiometricStatus.ACTIVE):
        raise AuthenticatorDisabled("the face is disabled")
    return enrolled.template


@dataclass(kw_only=True)
class FaceAttempt(Attempt):
    """One attempt of the Face modality: a match, or a failure the client reports."""

    modality: ClassVar[Modality] = Modality.FACE
    event: ClassVar[str] = "face"

    judged: _Judgement = _Judgement()
    client_reason: str | None = None

    @classmethod
    async def begin(
        cls,
        conn: AsyncConnection,
        ctx: Context,
        keyring: KeyRing,
        store_name: str,
        ref: UserRef,
        rate: AttemptRate,
    ) -> FaceAttempt:
        """Lock the user's row and read the user as it is under that lock. Raises 3000, 3100."""
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        return await cls.for_locked_user(conn, ctx, keyring, store, ref, rate)

    def audit_details(self) -> JsonObject:
        judged = self.judged
        info: JsonObject = {}
        if judged.biometric_id is not None:
            info["biometricId"] = judged.biometric_id
        if self.client_reason is not None:
            info["reason"] = self.client_reason
        elif judged.threshold is not None:
            # A recorded client failure ran no model: it names neither score nor model.
            if judged.score is not None:
                info["score"] = judged.score
            info.update(
                threshold=judged.threshold, model=face.MODEL_NAME, modelVersion=face.MODEL_VERSION
            )
        return {"faceInfo": info}

    def log_fields(self) -> dict[str, object]:
        return {**super().log_fields(), "biometric_id": self.judged.biometric_id}

    async def decide(self) -> FaceAuthentication:
        """The judgement, checked against the face as it is now under the lock."""
        judged = self.judged
        if judged.refusal is not None:
            raise await self.refuse(judged.refusal)
        current = await face_row(
            self.conn,
            store_id=self.store_id,
            user_id=self.user.id,
            subtype=BiometricSubtype.PORTRAIT,
        )
        # Replaced or removed while the model worked: the score is of a face no longer held.
        if current is None or current.id != judged.biometric_id:
            raise await self.refuse(NoEnrolledFace())
        if current.status != str(BiometricStatus.ACTIVE):
            raise await self.refuse(AuthenticatorDisabled("the face is disabled"))
        assert judged.score is not None and judged.threshold is not None  # noqa: S101  # judged
        if judged.score < judged.threshold:
            raise await self.refuse(FaceNotMatched(), counts=True)
        record = await self.succeed()
        return FaceAuthentication(user=self.user, score=judged.score, authentication_id=record.id)
