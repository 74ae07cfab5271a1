"""Property: whatever is done to a valid assertion or message, only a contract error comes out.

Hypothesis mutates real assertions from the software authenticator (bit flips, truncation,
overwritten length fields, inserted tags, duplicated slices, random bytes) and feeds them through
the whole server path: read, check, verify. Any exception other than `UafError` with a known code
fails the test, and so does a mutated assertion that passes while differing in signed bytes.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idstore import uaf
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, b64url, b64url_decode, tlv
from tests.uaf.conftest import (
    APP_ID,
    FACET_ID,
    Registered,
    authenticate,
    authentication_request,
    check_registration,
    new_challenge,
    register,
    registration_request,
)

KNOWN_CODES = frozenset(int(code) for code in uaf.UafCode)
PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
Mutation = Callable[[bytes], bytes]


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    """One or a few mutations of `original`."""
    data = original
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATORS))(draw, data)
    return data


def _flip(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    index = draw(st.integers(0, len(data) - 1))
    return data[:index] + bytes([data[index] ^ (1 << draw(st.integers(0, 7)))]) + data[index + 1 :]


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


def _overwrite_length(draw: st.DrawFn, data: bytes) -> bytes:
    """Overwrite a 16-bit field; aimed at element headers, where the lengths are."""
    if len(data) < 4:
        return data
    index = draw(st.integers(0, len(data) - 2))
    value = draw(st.one_of(st.integers(0, 0xFFFF), st.sampled_from([0, 1, 0xFFFF])))
    return data[:index] + struct.pack("<H", value) + data[index + 2 :]


def _insert_tag(draw: st.DrawFn, data: bytes) -> bytes:
    index = draw(st.integers(0, len(data)))
    tag = draw(
        st.one_of(st.sampled_from([int(tag) for tag in uaf.tlv.Tag]), st.integers(0, 0xFFFF))
    )
    value = draw(st.binary(max_size=40))
    return data[:index] + struct.pack("<HH", tag, len(value)) + value + data[index:]


def _duplicate_slice(draw: st.DrawFn, data: bytes) -> bytes:
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 80)))
    return data[:end] + data[start:end] + data[end:]


def _random(draw: st.DrawFn, data: bytes) -> bytes:
    return draw(st.binary(max_size=300))


Node = tuple[int, "bytes | list[Node]"]
_COMPOSITE = 0x1000  # UAF tags with this bit set hold further elements


def _parse(data: bytes) -> list[Node] | None:
    """The element tree of well-formed TLV bytes (None if they are not), for re-encoding."""
    nodes: list[Node] = []
    while data:
        if len(data) < 4:
            return None
        tag, length = struct.unpack_from("<HH", data)
        value, data = data[4 : 4 + length], data[4 + length :]
        if len(value) != length:
            return None
        children = _parse(value) if tag & _COMPOSITE else None
        nodes.append((tag, value if children is None else children))
    return nodes


def _encode(nodes: list[Node]) -> bytes:
    return b"".join(
        tlv(tag, value if isinstance(value, bytes) else _encode(value)) for tag, value in nodes
    )


def _leaf_paths(nodes: list[Node], prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    paths = []
    for index, (_, value) in enumerate(nodes):
        path = (*prefix, index)
        paths.extend([path] if isinstance(value, bytes) else _leaf_paths(value, path))
    return paths


def _replace_leaf(draw: st.DrawFn, data: bytes) -> bytes:
    """Give one leaf other bytes, every length around it kept right: only meaning changes."""
    nodes = _parse(data)
    if not nodes or not (paths := _leaf_paths(nodes)):
        return data
    *parents, last = draw(st.sampled_from(paths))
    siblings = nodes
    for index in parents:
        children = siblings[index][1]
        assert isinstance(children, list)
        siblings = children
    siblings[last] = (siblings[last][0], draw(st.binary(max_size=70)))
    return _encode(nodes)


MUTATORS = [
    _flip,
    _truncate,
    _overwrite_length,
    _insert_tag,
    _duplicate_slice,
    _random,
    _replace_leaf,
    _replace_leaf,
]


def _with_assertion(response: list[dict[str, Any]], assertion: bytes) -> list[dict[str, Any]]:
    message = dict(response[0])
    message["assertions"] = [{"assertionScheme": "UAFV1TLV", "assertion": b64url(assertion)}]
    return [message]


def _assert_only_contract_errors(call: Callable[[], object]) -> bool:
    try:
        call()
    except uaf.UafError as refused:
        assert int(refused.code) in KNOWN_CODES, refused
        return False
    return True


AUTHENTICATOR = SoftwareUafAuthenticator(aaid="ABCD#0009")
REGISTERED: Registered = register(AUTHENTICATOR)
REG_CHALLENGE = new_challenge()
REG_RESPONSE = AUTHENTICATOR.register(registration_request(REG_CHALLENGE), FACET_ID)
REG_ASSERTION = b64url_decode(REG_RESPONSE[0]["assertions"][0]["assertion"])
AUTH_CHALLENGE = new_challenge()
AUTH_RESPONSE = AUTHENTICATOR.authenticate(
    authentication_request(AUTH_CHALLENGE), FACET_ID, key_id=REGISTERED.key.key_id
)
AUTH_ASSERTION = b64url_decode(AUTH_RESPONSE[0]["assertions"][0]["assertion"])


@PROPERTY
@given(mutations(REG_ASSERTION))
def test_a_mutated_registration_assertion_meets_only_contract_errors(assertion: bytes) -> None:
    response = _with_assertion(REG_RESPONSE, assertion)

    accepted = _assert_only_contract_errors(
        lambda: check_registration(AUTHENTICATOR, response, REG_CHALLENGE)
    )

    if accepted:  # only a change outside the signed key registration data may pass
        read = uaf.read_registration_response(response)
        original = uaf.read_registration_response(REG_RESPONSE)
        assert read.assertion.signed_data == original.assertion.signed_data


@PROPERTY
@given(mutations(AUTH_ASSERTION))
def test_a_mutated_authentication_assertion_meets_only_contract_errors(assertion: bytes) -> None:
    response = _with_assertion(AUTH_RESPONSE, assertion)

    accepted = _assert_only_contract_errors(
        lambda: authenticate(REGISTERED, response, AUTH_CHALLENGE)
    )

    if accepted:
        read = uaf.read_authentication_response(response)
        assert (
            read.assertion.signed_data
            == uaf.read_authentication_response(AUTH_RESPONSE).assertion.signed_data
        )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["header", "upv", "op", "appID", "fcParams", "assertions", "major", "x"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@PROPERTY
@given(
    st.sampled_from(["header", "fcParams", "assertions", "header.upv", "header.op"]), JSON_VALUES
)
def test_any_json_in_place_of_a_field_meets_only_contract_errors(field: str, value: object) -> None:
    for response, read in (
        (REG_RESPONSE, uaf.read_registration_response),
        (AUTH_RESPONSE, uaf.read_authentication_response),
    ):
        message = {**response[0], "header": dict(response[0]["header"])}
        target: dict[str, Any] = message
        *path, last = field.split(".")
        for step in path:
            target = target[step]
        target[last] = value

        _assert_only_contract_errors(functools.partial(read, [message]))
        _assert_only_contract_errors(functools.partial(read, value))


def test_the_unmutated_responses_pass() -> None:
    assert check_registration(AUTHENTICATOR, REG_RESPONSE, REG_CHALLENGE).aaid == "ABCD#0009"
    assert authenticate(REGISTERED, AUTH_RESPONSE, AUTH_CHALLENGE).challenge == AUTH_CHALLENGE
    assert APP_ID in REG_RESPONSE[0]["header"]["appID"]
