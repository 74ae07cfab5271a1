"""The UAF 1.1 messages the server sends: registration, authentication, deregistration requests.

Each is a JSON array holding one message for protocol version 1.1 (UAF Protocol 1.1, its
Registration, Authentication and Deregistration operations), ready to hand to a UAF client
unchanged.
"""

import base64
import hashlib
from collections.abc import Sequence
from typing import Literal

KeyType = Literal["DEVICE", "BIOMETRIC"]
UAF_VERSION = {"major": 1, "minor": 1}
ASSERTION_SCHEME = "UAFV1TLV"

# userVerification bits of the FIDO registry: the methods that make a key BIOMETRIC, and the
# ones that only show the device (and perhaps its owner's PIN) was there. Without the
# USER_VERIFY_ALL bit, any one of the listed methods satisfies the criteria.
_BIOMETRIC_METHODS = (
    0x02 | 0x08 | 0x10 | 0x40 | 0x100 | 0x200
)  # finger, voice, face, eye, palm, hand
_DEVICE_METHODS = 0x01 | 0x04 | 0x80 | 0x400  # presence, passcode, pattern, none
USER_VERIFICATION = {"DEVICE": _DEVICE_METHODS, "BIOMETRIC": _BIOMETRIC_METHODS}


def _header(op: str, app_id: str, server_data: str | None) -> dict[str, object]:
    header: dict[str, object] = {"upv": dict(UAF_VERSION), "op": op, "appID": app_id}
    if server_data is not None:
        header["serverData"] = server_data
    return header


def _criteria(accepted_aaids: Sequence[str], key_type: KeyType | None) -> dict[str, object]:
    criteria: dict[str, object] = {"assertionSchemes": [ASSERTION_SCHEME]}
    if accepted_aaids:
        criteria["aaid"] = list(accepted_aaids)
    if key_type is not None:
        criteria["userVerification"] = USER_VERIFICATION[key_type]
    return criteria


def registration_request(
    *,
    app_id: str,
    challenge: str,
    username: str,
    accepted_aaids: Sequence[str],
    key_types: Sequence[KeyType],
    server_data: str | None = None,
) -> list[dict[str, object]]:
    """A RegistrationRequest for one user: any accepted AAID, any of the key types.

    `challenge` is the base64url (unpadded) of random bytes made by the caller; `server_data`
    defaults to it, so that a response names the challenge it answers. An empty
    `accepted_aaids` accepts every authenticator; an empty `key_types` every kind of key.
    """
    alternatives = [[_criteria(accepted_aaids, key_type)] for key_type in key_types] or [
        [_criteria(accepted_aaids, None)]
    ]
    return [
        {
            "header": _header("Reg", app_id, challenge if server_data is None else server_data),
            "challenge": challenge,
            "username": username,
            "policy": {"accepted": alternatives},
        }
    ]


def authentication_request(
    *,
    app_id: str,
    challenge: str,
    accepted_aaids: Sequence[str],
    transaction_text: str | None = None,
    key_ids: Sequence[str] = (),
    server_data: str | None = None,
) -> list[dict[str, object]]:
    """An AuthenticationRequest: sign `challenge` with a key of an accepted AAID.

    `key_ids` (base64url) narrows the choice to the user's registered keys; `transaction_text`
    adds a text/plain transaction for the authenticator to show and sign the hash of.
    """
    criteria = _criteria(accepted_aaids, None)
    if key_ids:
        criteria["keyIDs"] = list(key_ids)
    message: dict[str, object] = {
        "header": _header("Auth", app_id, challenge if server_data is None else server_data),
        "challenge": challenge,
        "policy": {"accepted": [[criteria]]},
    }
    if transaction_text is not None:
        content = base64.urlsafe_b64encode(transaction_text.encode()).rstrip(b"=").decode()
        message["transaction"] = [{"contentType": "text/plain", "content": content}]
    return [message]


def transaction_content_hash(transaction_text: str) -> bytes:
    """The hash an authenticator signs for the text/plain transaction `authentication_request`
    sends: SHA-256 of the content it shows, the text's UTF-8 bytes (UAF Authenticator Commands
    1.1, Sign command, TransactionContentHash)."""
    return hashlib.sha256(transaction_text.encode()).digest()


def deregistration_request(
    *, app_id: str, keys: Sequence[tuple[str, str]]
) -> list[dict[str, object]]:
    """A DeregistrationRequest for the (aaid, keyID) pairs of `keys`.

    An empty `keys` asks for every key of the app id to go: the spec's single entry with an
    empty aaid and an empty keyID (UAF Protocol 1.1, DeregistrationRequest). A pair with an
    empty keyID removes every key of that AAID.
    """
    entries = [{"aaid": aaid, "keyID": key_id} for aaid, key_id in keys] or [
        {"aaid": "", "keyID": ""}
    ]
    return [{"header": _header("Dereg", app_id, None), "authenticators": entries}]
