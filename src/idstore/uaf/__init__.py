"""FIDO UAF 1.1 without I/O: requests built, responses read strictly, assertions verified.

The server side of the UAF protocol for appkeys: `registration_request` and friends make the
messages an app hands to its UAF client; `read_*_response` read what comes back (UAFV1TLV
assertions included); `check_*` and `verify_assertion` decide whether to trust it. Every
refusal is a `UafError` carrying a contract code.
"""

from idstore.uaf.assertions import (
    AttestationType,
    AuthenticationAssertion,
    Extension,
    RegistrationAssertion,
)
from idstore.uaf.checks import (
    NewKey,
    SignedAssertion,
    check_authentication,
    check_registration,
    key_type_of,
    verify_assertion,
)
from idstore.uaf.encoding import b64url_decode, b64url_encode
from idstore.uaf.errors import UafCode, UafError
from idstore.uaf.keys import KeyEncoding, SignatureAlgorithm
from idstore.uaf.messages import (
    KeyType,
    authentication_request,
    deregistration_request,
    registration_request,
    transaction_content_hash,
)
from idstore.uaf.responses import (
    AuthenticationResponse,
    FinalChallengeParams,
    RegistrationResponse,
    read_authentication_response,
    read_registration_response,
)
from idstore.uaf.single_shot import single_shot_challenge, single_shot_time

__all__ = [
    "AttestationType",
    "AuthenticationAssertion",
    "AuthenticationResponse",
    "Extension",
    "FinalChallengeParams",
    "KeyEncoding",
    "KeyType",
    "NewKey",
    "RegistrationAssertion",
    "RegistrationResponse",
    "SignatureAlgorithm",
    "SignedAssertion",
    "UafCode",
    "UafError",
    "authentication_request",
    "b64url_decode",
    "b64url_encode",
    "check_authentication",
    "check_registration",
    "deregistration_request",
    "key_type_of",
    "read_authentication_response",
    "read_registration_response",
    "registration_request",
    "single_shot_challenge",
    "single_shot_time",
    "transaction_content_hash",
    "verify_assertion",
]
