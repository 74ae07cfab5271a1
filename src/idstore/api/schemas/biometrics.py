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

# `data` is checked by the service, not here: absent or null is 20114 and bad base64 is 3502,
# codes of the changelog rather than 9002.
ImageData = Annotated[StrictStr | None, Field(description="Base64 of a JPEG or PNG image.")]
# Not Storable: the service compares these with the names it knows (2006, 8) and never stores
# what it does not know, so a NUL in one is an unsupported name rather than a 9002.
Subtype = Annotated[StrictStr, Field(max_length=32)]
AlgorithmName = Annotated[StrictStr, Field(max_length=64)]


class BiometricEnrolIn(RequestBody):
    subtype: Annotated[Subtype | None, NotNull] = None
    data: ImageData = None


class FaceMatchIn(RequestBody):
    data: ImageData = None
    matching_algorithm: Annotated[AlgorithmName | None, NotNull] = None
    # Its range (0-1) is the service's check: outside it is 20125, not 9002.
    match_threshold: Annotated[StrictFloat | None, NotNull] = None


class BiometricFailureIn(RequestBody):
    type: Annotated[StrictStr, Field(max_length=32)]
    reason: Annotated[ShortText | None, NotNull] = None


class BiometricOut(ResponseBody):
    """A user's enrolled face; never its template or image."""

    id: str
    type: str
    subtype: str
    status: str
    created_dtm: Dtm
    quality: float
