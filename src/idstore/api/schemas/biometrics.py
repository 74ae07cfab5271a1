"""Face enrolment, matching and failure recording (spec §11); a user's biometric summary."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat

from idstore.api.schemas.common import (
    Dtm,
    NotNull,
    RequestBody,
    ResponseBody,
    ShortText,
    StrictStr,
)
from idstore.services.face_models import BiometricSubtype, BiometricType
from idstore.services.face_requests import MATCHING_ALGORITHM

# What the service checks with the changelog's codes rather than 9002 (absent or null `data` is
# 20114, bad base64 3502, another subtype 2006, algorithm 8, threshold 20125) is declared in the
# OpenAPI schema alone (`json_schema_extra`), so that clients and fuzzers read the rule applied.
# The routes' body limit (api/middleware.py MAX_BIOMETRIC_BODY_BYTES) bounds `data`.
MAX_DATA_LENGTH = 10 * 1024 * 1024
ImageData = Annotated[
    StrictStr | None,
    Field(
        description="Base64 of a JPEG or PNG image.",
        json_schema_extra={"maxLength": MAX_DATA_LENGTH},
    ),
]
FACE_ONLY = {"enum": [BiometricType.FACE.value]}
# Not Storable: the service compares these with the names it knows (2006, 8) and never stores
# what it does not know, so a NUL in one is an unsupported name rather than a 9002.
Subtype = Annotated[
    StrictStr,
    Field(max_length=32, json_schema_extra={"enum": [str(BiometricSubtype.PORTRAIT)]}),
]
AlgorithmName = Annotated[
    StrictStr, Field(max_length=64, json_schema_extra={"enum": [MATCHING_ALGORITHM]})
]


class BiometricEnrolIn(RequestBody):
    subtype: Annotated[Subtype | None, NotNull] = None
    data: ImageData = None


class FaceMatchIn(RequestBody):
    data: ImageData = None
    matching_algorithm: Annotated[AlgorithmName | None, NotNull] = None
    # Its range (0-1) is the service's check: outside it is 20125, not 9002.
    match_threshold: Annotated[
        StrictFloat | None, NotNull, Field(json_schema_extra={"minimum": 0, "maximum": 1})
    ] = None


class BiometricFailureIn(RequestBody):
    # VOICE_TD and VOICE_TI answer 2005 until voice exists; anything else 20115.
    type: Annotated[StrictStr, Field(max_length=32, json_schema_extra=FACE_ONLY)]
    reason: Annotated[ShortText | None, NotNull] = None


class BiometricOut(ResponseBody):
    """A user's enrolled face; never its template or image."""

    id: str
    type: str
    subtype: str
    status: str
    created_dtm: Dtm
    quality: float
