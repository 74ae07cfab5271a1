"""A user's face as the service keeps it (spec §11): its type, subtype and status, and the
enrolment's summary (the template itself stays sealed in the row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BiometricType(StrEnum):
    """The changelog's biometric types; only FACE is served (voice answers 2005)."""

    FACE = "FACE"
    VOICE_TD = "VOICE_TD"
    VOICE_TI = "VOICE_TI"


class BiometricSubtype(StrEnum):
    PORTRAIT = "PORTRAIT"


class BiometricStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class UserBiometric:
    """A user's enrolled face; its template (and any kept image) stays sealed in the row."""

    id: str
    user_id: str
    type: BiometricType
    subtype: BiometricSubtype
    status: BiometricStatus
    quality: float
    model: str
    model_version: str
    created_dtm: datetime
    last_updated_dtm: datetime
