"""Enrolling a user's face (spec §11): one face per user and subtype, its template sealed.

The image is read and embedded first, in the model's worker pool and outside any transaction;
then one short transaction locks the user's row and puts the new face in place of any old one.
A re-enrolment replaces the face: the old row, its template and any kept image are deleted and
a new face with a new id is inserted, ACTIVE, so that a face never carries a template it was not
made with. Enrolment is an administrator's change (an admin event), not an authentication
attempt: it is not audited as one and counts toward no lock.
"""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import face
from idstore.crypto.keyring import KeyRing
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import configuration, events, face_engine
from idstore.services.context import Context, UserRef
from idstore.services.face_engine import FaceModel
from idstore.services.face_models import BiometricStatus, BiometricSubtype
from idstore.services.face_requests import face_subtype, face_type, image_bytes
from idstore.services.face_rows import BIOMETRICS, face_row
from idstore.services.models import User
from idstore.services.rows import find_store, find_user_row, load_user


async def enrol_face(
    database: Database,
    keyring: KeyRing,
    model: FaceModel,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    type_name: str,
    subtype_name: str | None,
    data: str | None,
) -> User:
    """Make the user's face of the subtype from the image; answer the updated user.

    Raises 3000, 3100, 2005 (a voice type), 20115 (another type), 2006 (subtype), 20114 (no
    data), then 3502 (not a readable JPEG/PNG within the bounds), 3501 (not exactly one face),
    20120 (model fault, 500).
    """
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        await find_user_row(conn, store_id=store.id, ref=ref)
    face_type(type_name)
    subtype = face_subtype(subtype_name)
    image = image_bytes(data)

    template = await face_engine.template_of(model, image)

    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        kept = image if configuration.from_json(store.configuration).face_retain_images else None
        biometric_id = await _replace_face(
            conn,
            keyring,
            ctx,
            store_id=store.id,
            user_id=row.id,
            subtype=subtype,
            template=template,
            image=kept,
        )
        await events.record(
            conn,
            ctx,
            "face.enrolled",
            store_id=store.id,
            subject_id=biometric_id,
            details={"imageKept": kept is not None},
        )
        return await load_user(conn, store_id=store.id, ref=UserRef.by_id(row.id), now=ctx.now)


async def _replace_face(
    conn: AsyncConnection,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_id: str,
    user_id: str,
    subtype: BiometricSubtype,
    template: face.FaceTemplate,
    image: bytes | None,
) -> str:
    """Delete the user's face of the subtype, if any, and insert the new one; its id."""
    old = await face_row(conn, store_id=store_id, user_id=user_id, subtype=subtype)
    if old is not None:
        await conn.execute(
            delete(BIOMETRICS).where(BIOMETRICS.c.store_id == store_id, BIOMETRICS.c.id == old.id)
        )

    biometric_id = new_id()
    # The row id is the associated data: a sealed template moved to another row does not open.
    await conn.execute(
        insert(BIOMETRICS).values(
            id=biometric_id,
            store_id=store_id,
            user_id=user_id,
            type="FACE",
            subtype=str(subtype),
            status=str(BiometricStatus.ACTIVE),
            template_sealed=keyring.seal(template.to_bytes(), context=biometric_id),
            quality=template.quality,
            model=face.MODEL_NAME,
            model_version=face.MODEL_VERSION,
            image_sealed=None if image is None else keyring.seal(image, context=biometric_id),
            created_dtm=ctx.now,
            last_updated_dtm=ctx.now,
        )
    )
    return biometric_id
