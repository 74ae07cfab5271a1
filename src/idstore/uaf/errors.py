"""The one error of the UAF package: a numeric code and a message naming what is wrong.

Codes come from the changelog where it numbers the case (1017, 1026, 1029, 1091-1093); the
rest are idstore's own 3710-3719. Messages never carry key material, signatures or challenges.
"""

import enum


class UafCode(enum.IntEnum):
    """Every code a `UafError` may carry."""

    REGISTRATION_SENT_TO_AUTHENTICATION = 1017
    FACET_NOT_TRUSTED = 1026
    CHALLENGE_MISMATCH = 1029
    SINGLE_SHOT_OUTSIDE_WINDOW = 1090
    MALFORMED_AUTHENTICATION = 1091
    NO_AUTHENTICATION_ASSERTION = 1092
    SEVERAL_AUTHENTICATION_ASSERTIONS = 1093
    SIGNATURE_INVALID = 3710
    MALFORMED_REGISTRATION = 3711
    REGISTRATION_ASSERTION_COUNT = 3712
    ATTESTATION_REFUSED = 3713
    AAID_NOT_ACCEPTED = 3714
    ALGORITHM_NOT_SUPPORTED = 3715
    AUTHENTICATION_SENT_TO_REGISTRATION = 3716
    APP_ID_MISMATCH = 3717
    FINAL_CHALLENGE_HASH_MISMATCH = 3718
    VERSION_NOT_SUPPORTED = 3719


class UafError(Exception):
    """A UAF message or assertion was refused; `code` says why (a `UafCode` value)."""

    def __init__(self, code: UafCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"UafError({int(self.code)}, {self.message!r})"
