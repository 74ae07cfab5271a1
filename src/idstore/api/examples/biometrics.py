"""Examples of face enrolment, matching and failure recording (spec §11). The image data are
placeholders that say so: no example holds a real photograph or template."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.users import USER
from idstore.api.examples.values import ADMIN_CHANGE, AUDIT_RECORD_ID, AUTHENTICATED, Json
from idstore.services.face_requests import MATCHING_ALGORITHM

BIOMETRIC_ID = "0193a5c6-71a6-7077-bc77-9fc480530177"
# Base64 that is plainly not an image: the real thing is a JPEG or PNG of up to 10 MiB.
IMAGE = "RVhBTVBMRS1JTUFHRS1OT1QtUkVBTA=="

FACE: Json = {
    "id": BIOMETRIC_ID,
    "type": "FACE",
    "subtype": "PORTRAIT",
    "status": "ACTIVE",
    "createdDtm": ADMIN_CHANGE,
    "quality": 0.82,
}

USER_WITH_FACE: Json = {
    **USER,
    "lastUpdatedDtm": USER["lastUpdatedDtm"],
    "summaryInfo": {**USER["summaryInfo"], "biometrics": [FACE]},
}

USER_AFTER_FACE_FAILURE: Json = {
    **USER_WITH_FACE,
    "locks": {"modalities": {"Face": {"failedAttempts": 1}}},
}

ENROL_IN: dict[str, Example] = {
    "portrait": {"summary": "A portrait, base64", "value": {"data": IMAGE}},
    "subtype": {
        "summary": "The subtype named",
        "value": {"subtype": "PORTRAIT", "data": IMAGE},
    },
}

MATCH_IN: dict[str, Example] = {
    "default": {
        "summary": "Against the store's faceMatchThreshold",
        "value": {"data": IMAGE},
    },
    "stricter": {
        "summary": "With the algorithm named and a stricter threshold",
        "value": {"data": IMAGE, "matchingAlgorithm": MATCHING_ALGORITHM, "matchThreshold": 0.6},
    },
}

FAILURE_IN: dict[str, Example] = {
    "liveness": {
        "summary": "A liveness check failed on the device",
        "value": {"type": "FACE", "reason": "liveness check failed"},
    },
    "bare": {"summary": "No reason given", "value": {"type": "FACE"}},
}

MATCHED: Json = {
    "user": {**USER_WITH_FACE, "lastSuccessfulAuthenticationDtm": AUTHENTICATED},
    "score": 0.89,
    "authenticationId": AUDIT_RECORD_ID,
}
