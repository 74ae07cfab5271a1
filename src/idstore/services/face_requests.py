"""What a face request names, checked before any image is looked at: the biometric type and
subtype, the image's base64, the matching algorithm and threshold (spec §11)."""

from __future__ import annotations

import binascii
from base64 import b64decode

from idstore.face import MODEL_NAME
from idstore.services.face_errors import (
    AlgorithmNotSupported,
    BiometricDataMissing,
    BiometricSubtypeNotSupported,
    BiometricTypeNotServed,
    BiometricTypeUnknown,
    ImageUnreadable,
    StoredThresholdOutOfRange,
    ThresholdOutOfRange,
)
from idstore.services.face_models import BiometricSubtype, BiometricType

# The one algorithm this service matches with (docs/face.md): dlib's ResNet face embedding,
# named as the audit records name the model.
MATCHING_ALGORITHM = MODEL_NAME
# Base64 of at most 10 MiB of image, as the body limit of the biometric routes allows.
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def face_type(name: str) -> BiometricType:
    """The type a path names, if it is FACE. Raises 2005 (voice, not served) or 20115."""
    try:
        found = BiometricType(name)
    except ValueError:
        raise BiometricTypeUnknown(f"biometric type {name[:32]!r} is not supported") from None
    if found is not BiometricType.FACE:
        raise BiometricTypeNotServed(f"biometric type {found} is not supported yet")
    return found


def face_subtype(name: str | None) -> BiometricSubtype:
    """The subtype a request names (PORTRAIT when absent). Raises 2006."""
    if name is None:
        return BiometricSubtype.PORTRAIT
    try:
        return BiometricSubtype(name)
    except ValueError:
        raise BiometricSubtypeNotSupported(
            f"biometric subtype {name[:32]!r} is not supported"
        ) from None


def image_bytes(data: str | None) -> bytes:
    """The image the request's base64 `data` holds. Raises 20114 (absent or empty) or 3502
    (not base64, or larger than 10 MiB)."""
    if not data:
        raise BiometricDataMissing()
    try:
        image = b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ImageUnreadable("data is not base64") from None
    if len(image) > MAX_IMAGE_BYTES:
        raise ImageUnreadable(f"the image exceeds {MAX_IMAGE_BYTES} bytes")
    return image


def check_algorithm(name: str | None) -> None:
    """Raises 8 for a matching algorithm other than this service's."""
    if name is not None and name != MATCHING_ALGORITHM:
        raise AlgorithmNotSupported(
            f"matching algorithm {name[:64]!r} is not supported; use {MATCHING_ALGORITHM}"
        )


def match_threshold(requested: float | None, stored: float) -> float:
    """The threshold of one match: the store's `faceMatchThreshold` is a floor; a request may
    ask for a stricter (higher) one, and a laxer one is raised to the floor, so that no caller
    can make any face match (and clear the lock counter) with a threshold of 0.

    Raises 20125 (the request's outside 0-1) or 20126 (the store's outside 0-1).
    """
    if requested is not None and not 0.0 <= requested <= 1.0:
        raise ThresholdOutOfRange()
    if not 0.0 <= stored <= 1.0:
        raise StoredThresholdOutOfRange()
    return stored if requested is None else max(requested, stored)
