"""The UAF 1.1 messages a client sends back: registration and authentication responses.

A response is a JSON array with one message (UAF Protocol 1.1, RegistrationResponse and
AuthenticationResponse): a header,
`fcParams` (base64url of the FinalChallengeParams JSON) and the assertions, each the base64url
of UAFV1TLV bytes. Reading checks shape and types only; `checks` decides whether to trust it.

The JSON inside them (a response sent as a string, the FinalChallengeParams) is read strictly: a
member named twice or a constant that is no JSON is malformed. The authenticator signs the hash of
fcParams' bytes, not one reading of them, so two "challenge" members would let the service judge
one challenge while a parser keeping the first sees another.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from idstore import strict_json
from idstore.uaf.assertions import (
    AuthenticationAssertion,
    RegistrationAssertion,
    read_authentication_assertion,
    read_registration_assertion,
)
from idstore.uaf.encoding import b64url_decode
from idstore.uaf.errors import UafCode, UafError
from idstore.uaf.messages import ASSERTION_SCHEME

Operation = Literal["Reg", "Auth"]
SUPPORTED_VERSIONS = frozenset({(1, 0), (1, 1)})
_MAX_TEXT = 65536


@dataclass(frozen=True)
class FinalChallengeParams:
    """What the client says it signed: the app, the challenge, its facet and channel."""

    app_id: str
    challenge: str
    facet_id: str
    channel_binding: Mapping[str, str]


@dataclass(frozen=True)
class Header:
    """The operation header of a response."""

    op: Operation
    app_id: str | None
    server_data: str | None
    version: tuple[int, int]


@dataclass(frozen=True)
class RegistrationResponse:
    """A read RegistrationResponse with its one assertion; not yet checked."""

    header: Header
    fc_params: str
    final_challenge: FinalChallengeParams
    assertion: RegistrationAssertion


@dataclass(frozen=True)
class AuthenticationResponse:
    """A read AuthenticationResponse with its one assertion; not yet checked."""

    header: Header
    fc_params: str
    final_challenge: FinalChallengeParams
    assertion: AuthenticationAssertion


@dataclass(frozen=True)
class _Message:
    header: Header
    fc_params: str
    final_challenge: FinalChallengeParams
    assertions: list[bytes]


_MALFORMED = {"Reg": UafCode.MALFORMED_REGISTRATION, "Auth": UafCode.MALFORMED_AUTHENTICATION}
_OTHER_OPERATION = {
    "Reg": UafError(
        UafCode.AUTHENTICATION_SENT_TO_REGISTRATION,
        "an authentication response was sent to registration",
    ),
    "Auth": UafError(
        UafCode.REGISTRATION_SENT_TO_AUTHENTICATION,
        "a registration response was sent to authentication",
    ),
}


def read_registration_response(client_response: object) -> RegistrationResponse:
    """Read a clientResponse for registration: the JSON array, or the same in a JSON string.

    Raises UafError 3716 (it is an authentication response), 3712 (no or several assertions),
    3719 (protocol version), 3711 (anything else malformed).
    """
    message = _read_message(client_response, op="Reg")
    if len(message.assertions) != 1:
        raise UafError(
            UafCode.REGISTRATION_ASSERTION_COUNT,
            f"a registration response must hold one assertion, not {len(message.assertions)}",
        )
    return RegistrationResponse(
        message.header,
        message.fc_params,
        message.final_challenge,
        read_registration_assertion(message.assertions[0]),
    )


def read_authentication_response(client_response: object) -> AuthenticationResponse:
    """Read a clientResponse for authentication: the JSON array, or the same in a JSON string.

    Raises UafError 1017 (it is a registration response), 1092 (no assertion), 1093 (several),
    3719 (protocol version), 1091 (anything else malformed).
    """
    message = _read_message(client_response, op="Auth")
    if not message.assertions:
        raise UafError(UafCode.NO_AUTHENTICATION_ASSERTION, "the response holds no assertion")
    if len(message.assertions) > 1:
        raise UafError(
            UafCode.SEVERAL_AUTHENTICATION_ASSERTIONS, "the response holds several assertions"
        )
    return AuthenticationResponse(
        message.header,
        message.fc_params,
        message.final_challenge,
        read_authentication_assertion(message.assertions[0]),
    )


def _read_message(client_response: object, *, op: Operation) -> _Message:
    malformed = _MALFORMED[op]
    message = _one_message(client_response, malformed)
    header = _header(message.get("header"), malformed)
    if header.op != op:
        other = _OTHER_OPERATION[op]
        raise UafError(other.code, other.message)
    fc_params, final_challenge = _final_challenge(message.get("fcParams"), malformed)
    assertions = _assertions(message.get("assertions"), malformed)
    return _Message(header, fc_params, final_challenge, assertions)


def _one_message(client_response: object, malformed: UafCode) -> dict[str, object]:
    if isinstance(client_response, str):
        client_response = _strict(client_response, malformed, "the client response string")
    if not isinstance(client_response, list) or len(client_response) != 1:
        raise UafError(malformed, "the client response must be an array of one message")
    message = client_response[0]
    if not isinstance(message, dict):
        raise UafError(malformed, "the client response message must be an object")
    return message


def _header(header: object, malformed: UafCode) -> Header:
    if not isinstance(header, dict):
        raise UafError(malformed, "the message header must be an object")
    upv = header.get("upv")
    if not isinstance(upv, dict):
        raise UafError(malformed, "header.upv must be an object")
    major, minor = upv.get("major"), upv.get("minor")
    if not (isinstance(major, int) and isinstance(minor, int)) or _is_bool(major, minor):
        raise UafError(malformed, "header.upv must hold integers major and minor")
    if (major, minor) not in SUPPORTED_VERSIONS:
        raise UafError(UafCode.VERSION_NOT_SUPPORTED, "only UAF 1.0 and 1.1 are supported")
    op = header.get("op")
    if op not in ("Reg", "Auth"):
        raise UafError(malformed, "header.op must be Reg or Auth")
    app_id = _optional_text(header, "appID", malformed)
    server_data = _optional_text(header, "serverData", malformed)
    return Header("Reg" if op == "Reg" else "Auth", app_id, server_data, (major, minor))


def _final_challenge(fc_params: object, malformed: UafCode) -> tuple[str, FinalChallengeParams]:
    if not isinstance(fc_params, str):
        raise UafError(malformed, "fcParams must be a base64url string")
    raw = b64url_decode(fc_params, error_code=malformed, what="fcParams")
    params = _strict(raw, malformed, "fcParams")
    if not isinstance(params, dict):
        raise UafError(malformed, "fcParams must be a JSON object")
    fields = [params.get(name) for name in ("appID", "challenge", "facetID")]
    if not all(isinstance(field, str) and len(field) <= _MAX_TEXT for field in fields):
        raise UafError(malformed, "fcParams must hold the strings appID, challenge, facetID")
    binding = params.get("channelBinding", {})
    if not isinstance(binding, dict) or not all(
        isinstance(value, str) for value in binding.values()
    ):
        raise UafError(malformed, "fcParams.channelBinding must be an object of strings")
    app_id, challenge, facet_id = (str(field) for field in fields)
    return fc_params, FinalChallengeParams(app_id, challenge, facet_id, dict(binding))


def _strict(document: str | bytes, malformed: UafCode, what: str) -> object:
    """The document (UTF-8 when bytes, as UAF encodes fcParams) read by the strict decoder."""
    try:
        if isinstance(document, bytes):
            return strict_json.loads_utf8(document)
        return strict_json.loads(document)
    except strict_json.NotPlainUtf8 as unplain:
        raise UafError(malformed, f"{what} is {unplain}") from None
    except strict_json.DuplicateKeys as repeated:
        raise UafError(malformed, f"{what} names {repeated} more than once") from None
    except (ValueError, RecursionError) as exc:
        raise UafError(malformed, f"{what} is not JSON") from exc


def _assertions(assertions: object, malformed: UafCode) -> list[bytes]:
    if not isinstance(assertions, list):
        raise UafError(malformed, "assertions must be an array")
    decoded = []
    for entry in assertions:
        if not isinstance(entry, dict) or entry.get("assertionScheme") != ASSERTION_SCHEME:
            raise UafError(malformed, "each assertion must be an object of scheme UAFV1TLV")
        decoded.append(
            b64url_decode(entry.get("assertion"), error_code=malformed, what="assertion")
        )
    return decoded


def _optional_text(header: dict[str, object], name: str, malformed: UafCode) -> str | None:
    value = header.get(name)
    if value is not None and not (isinstance(value, str) and len(value) <= _MAX_TEXT):
        raise UafError(malformed, f"header.{name} must be a string")
    return value


def _is_bool(*values: object) -> bool:
    # JSON true is a Python bool, which is an int: not a version number.
    return any(isinstance(value, bool) for value in values)
