"""Face enrolment, matching and failure recording (spec §11); a user's biometric summary."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat

from idstore.api.schemas.common import Dtm, NotNull, RequestBody, ResponseBody, StrictStr, Text

# `data` is checked by the service, not here: absent or null is 20114 and bad base64 is 3502,
# codes of the changelog rather than 9002.
ImageData = Annotated[StrictStr | None, Field(description="Base64 of a JPEG or PNG image.")]


class BiometricEnrolIn(RequestBody):
    subtype: Annotated[StrictStr | None, NotNull, Field(max_length=32)] = None
    data: ImageData = None


class FaceMatchIn(RequestBody):
    data: ImageData = None
    matching_algorithm: Annotated[StrictStr | None, NotNull, Field(max_length=64)] = None
    # Its range (0-1) is the service's check: outside it is 20125, not 9002.
    match_threshold: Annotated[StrictFloat | None, NotNull] = None


class BiometricFailureIn(RequestBody):
    type: Annotated[StrictStr, Field(max_length=32)]
    reason: Annotated[Text | None, NotNull, Field(max_length=255)] = None


class BiometricOut(ResponseBody):
    """A user's enrolled face; never its template or image."""

    id: str
    type: str
    subtype: str
    status: str
    created_dtm: Dtm
    quality: float
