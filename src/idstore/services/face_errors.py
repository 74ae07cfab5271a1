"""Face errors (spec §11): the changelog's numbers 8, 2005, 2006 and 20114-20126, and the
contract's 3500-3502. All are 400 unless said otherwise; a refused match carries the updated
user."""

from __future__ import annotations

from idstore.services.errors import IdstoreError


class AlgorithmNotSupported(IdstoreError):
    """The `matchingAlgorithm` named is not this service's (docs/face.md names the one)."""

    code = 8
    http_status = 400
    default_message = "the face matching algorithm is not supported"


class BiometricTypeNotServed(IdstoreError):
    """A voice type (VOICE_TD, VOICE_TI): a type the changelog names, not served yet."""

    code = 2005
    http_status = 400
    default_message = "the biometric type is not supported"


class BiometricSubtypeNotSupported(IdstoreError):
    """A subtype other than PORTRAIT."""

    code = 2006
    http_status = 400
    default_message = "the biometric subtype is not supported"


class BiometricDataMissing(IdstoreError):
    """The body has no `data` (or an empty one)."""

    code = 20114
    http_status = 400
    default_message = "biometric data is not supplied in the request"


class BiometricTypeUnknown(IdstoreError):
    """A type the changelog does not name at all."""

    code = 20115
    http_status = 400
    default_message = "the specified biometric type is not supported"


class TemplateFault(IdstoreError):
    """The model failed unexpectedly while making a template (logged with the request id)."""

    code = 20120
    http_status = 500
    default_message = "an unexpected error occurred while generating the face template"


class MatchFault(IdstoreError):
    """The model failed unexpectedly while matching (logged with the request id)."""

    code = 20121
    http_status = 500
    default_message = "an error occurred while performing the face match"


class NoEnrolledFace(IdstoreError):
    """The user has no enrolled face to match against."""

    code = 20122
    http_status = 400
    default_message = "there is no face data to match the presented sample against"


class ThresholdOutOfRange(IdstoreError):
    """The request's `matchThreshold` is outside 0-1."""

    code = 20125
    http_status = 400
    default_message = "the matching threshold must be between 0 and 1"


class StoredThresholdOutOfRange(IdstoreError):
    """The store's `faceMatchThreshold` is outside 0-1 (a store update refuses such a value
    with 9002, so only a row written around the API can hold one)."""

    code = 20126
    http_status = 400
    default_message = "the internal matching threshold must be between 0 and 1"


class FaceNotMatched(IdstoreError):
    """The score is under the threshold."""

    code = 3500
    http_status = 400
    default_message = "the face did not match"


class FaceCountWrong(IdstoreError):
    """The image holds no face, or more than one."""

    code = 3501
    http_status = 400
    default_message = "the image must show exactly one face"


class ImageUnreadable(IdstoreError):
    """The data is not base64 of a JPEG or PNG this service reads within its bounds."""

    code = 3502
    http_status = 400
    default_message = "the image cannot be read or exceeds the size bounds"


class ClientReportedFailure(IdstoreError):
    """This service's own (3800): the error code of the audit record of a failure the client
    reported (`…/biometrics/authentications/failure`), which itself answers 200."""

    code = 3800
    http_status = 400
    default_message = "the client reported a failed face authentication"
