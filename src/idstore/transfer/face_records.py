"""Faces in an export (format version 3): a user's enrolled face as a record and back as a row.

A face template is biometric data: like a TOTP secret it is opened with the server's key ring
only to be sealed at once to the file's recipient, bound to its kind and owner, and re-sealed
with the importing database's key ring (the row id as associated data, as enrolment seals it).
So is the image, when the store kept one. The quality, model and version stand in clear: the
store lists them without opening the seal, and the file's HMAC covers them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import face
from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.transfer import export_format as fmt
from idstore.transfer.export_format import FormatError, SecretOwner, SecretUnreadable
from idstore.transfer.recipient import FileKeys, SealedFieldBroken

TEMPLATE = "face.template"
IMAGE = "face.image"
_FACES = tables.user_biometrics
_WITHOUT_IMAGE = [column for column in _FACES.c if column.name != "image_sealed"]


async def faces_of(conn: AsyncConnection, user_ids: list[str]) -> dict[str, list[Row[Any]]]:
    """These users' faces, by user, without their kept images (`has_image` says whether there
    is one): a batch of users holds a template each, never a batch of photographs."""
    by_user: dict[str, list[Row[Any]]] = {user_id: [] for user_id in user_ids}
    rows = await conn.execute(
        select(*_WITHOUT_IMAGE)
        .add_columns(_FACES.c.image_sealed.is_not(None).label("has_image"))
        .where(_FACES.c.user_id.in_(user_ids))
        .order_by(_FACES.c.id)
    )
    for row in rows:
        by_user[row.user_id].append(row)
    return by_user


async def kept_image(conn: AsyncConnection, face: Row[Any]) -> bytes | None:
    """The face's sealed image, read on its own, or None when the store kept none."""
    if not face.has_image:
        return None
    image: bytes | None = await conn.scalar(
        select(_FACES.c.image_sealed).where(
            _FACES.c.store_id == face.store_id, _FACES.c.id == face.id
        )
    )
    return image


def face_record(
    row: Mapping[Any, Any],
    keyring: KeyRing,
    keys: FileKeys,
    owner: SecretOwner,
    image_sealed: bytes | None,
) -> dict[str, Any]:
    """One face with its template (and `image_sealed`, if kept) sealed to the file's recipient.

    Raises SecretUnreadable when a sealed value does not open with the key ring.
    """
    template = _opened(keyring, row["template_sealed"], row["id"])
    image = None if image_sealed is None else _opened(keyring, image_sealed, row["id"])
    return {
        "type": fmt.FACE,
        **fmt.to_json(fmt.FACE_FIELDS, row),
        "template": {"sealed": keys.seal(template, binding=owner.binding(TEMPLATE, row["id"]))},
        "image": None
        if image is None
        else {"sealed": keys.seal(image, binding=owner.binding(IMAGE, row["id"]))},
    }


def _opened(keyring: KeyRing, sealed: bytes, face_id: str) -> bytes:
    try:
        return keyring.open(sealed, context=face_id)
    except SealBroken as exc:
        raise SecretUnreadable(
            f"the template or image of face {face_id} does not open with this server's key ring"
        ) from exc


def face_row(
    record: Mapping[str, Any],
    where: str,
    *,
    keys: FileKeys,
    owner: SecretOwner,
    keyring: KeyRing,
    new_id: Callable[[str], str],
) -> dict[str, Any]:
    """The column values of a face record, its template and image re-sealed with `keyring`
    under the face's id here (`new_id` of the file's). Raises FormatError naming `where`: a
    field missing or mistyped, a sealed value that does not open, a template of no form this
    idstore reads (or whose quality is not the one beside it)."""
    values = fmt.from_json(fmt.FACE_FIELDS, record, where)
    file_id = values["id"]
    template = _unsealed(record, "template", keys, owner.binding(TEMPLATE, file_id), where)
    if template is None:
        raise FormatError(f"{where}: field 'template' is missing")
    try:
        face.FaceTemplate.from_bytes(template, quality=values["quality"])
    except face.MalformedTemplate:
        raise FormatError(
            f"{where}: field 'template' is not a face template idstore reads"
        ) from None
    image = _unsealed(record, "image", keys, owner.binding(IMAGE, file_id), where)
    if image is not None and len(image) > face.MAX_IMAGE_BYTES:
        raise FormatError(f"{where}: field 'image' is larger than an enrolment accepts")

    values["id"] = new_id(file_id)
    values["template_sealed"] = keyring.seal(template, context=values["id"])
    values["image_sealed"] = None if image is None else keyring.seal(image, context=values["id"])
    return values


def _unsealed(
    record: Mapping[str, Any], name: str, keys: FileKeys, binding: str, where: str
) -> bytes | None:
    """The opened value of a sealed field, None when the field is null (or, for `image`, absent)."""
    sealed = record.get(name)
    if sealed is None:
        return None
    try:
        if not isinstance(sealed, dict):
            raise SealedFieldBroken("no sealed value")
        return keys.open(str(sealed.get("sealed", "")), binding=binding)
    except SealedFieldBroken:
        raise FormatError(f"{where}: the sealed {name} does not open (altered or moved)") from None
