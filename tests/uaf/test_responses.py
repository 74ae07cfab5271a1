"""The shape of client responses: JSON, types, base64url, versions; each refused with its code."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from idstore import uaf
from tests.support.uaf_authenticator import b64url
from tests.uaf.conftest import (
    FACET_ID,
    Registered,
    authentication_request,
    new_challenge,
    refusal,
    registration_request,
)

Edit = Callable[[list[Any]], object]


def _set(path: tuple[Any, ...], value: object) -> Edit:
    def edit(response: list[Any]) -> None:
        target: Any = response
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _delete(path: tuple[Any, ...]) -> Edit:
    def edit(response: list[Any]) -> None:
        target: Any = response
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


SHAPE_ERRORS: list[tuple[str, Edit]] = [
    ("not JSON", lambda response: "[{"),
    ("a number", lambda response: 7),
    ("an empty array", lambda response: []),
    ("two messages", lambda response: response * 2),
    ("a message that is a string", lambda response: ["Reg"]),
    ("no header", _delete((0, "header"))),
    ("header upv missing", _delete((0, "header", "upv"))),
    ("upv minor a string", _set((0, "header", "upv", "minor"), "1")),
    ("upv major true", _set((0, "header", "upv", "major"), True)),
    ("op unknown", _set((0, "header", "op"), "Dereg")),
    ("appID a number", _set((0, "header", "appID"), 5)),
    ("serverData a list", _set((0, "header", "serverData"), [])),
    ("no fcParams", _delete((0, "fcParams"))),
    ("fcParams not base64url", _set((0, "fcParams"), "e30+")),
    ("fcParams with stray bits", _set((0, "fcParams"), "e31")),
    ("fcParams not JSON", _set((0, "fcParams"), b64url(b"{"))),
    ("fcParams an array", _set((0, "fcParams"), b64url(b"[]"))),
    ("fcParams without facetID", _set((0, "fcParams"), b64url(b'{"appID":"a","challenge":"c"}'))),
    (
        "channelBinding a string",
        _set(
            (0, "fcParams"),
            b64url(
                json.dumps(
                    {"appID": "a", "challenge": "c", "facetID": "f", "channelBinding": "x"}
                ).encode()
            ),
        ),
    ),
    ("assertions an object", _set((0, "assertions"), {})),
    ("assertion scheme unknown", _set((0, "assertions", 0, "assertionScheme"), "UAFV2TLV")),
    ("assertion a number", _set((0, "assertions", 0, "assertion"), 12)),
    ("assertion not base64url", _set((0, "assertions", 0, "assertion"), "AA==A")),
    ("assertion empty", _set((0, "assertions", 0, "assertion"), "")),
]


def _edited(response: list[Any], edit: Edit) -> object:
    copied = copy.deepcopy(response)
    answer = edit(copied)
    return copied if answer is None else answer


def _registration(registered: Registered) -> object:
    challenge = new_challenge()
    response = registered.authenticator.register(registration_request(challenge), FACET_ID)
    return lambda edit: uaf.read_registration_response(_edited(response, edit))


def _authentication(registered: Registered) -> object:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    return lambda edit: uaf.read_authentication_response(_edited(response, edit))


@pytest.mark.parametrize(("why", "edit"), SHAPE_ERRORS, ids=[why for why, _ in SHAPE_ERRORS])
@pytest.mark.parametrize(("reader", "code"), [(_registration, 3711), (_authentication, 1091)])
def test_a_misshapen_response_is_refused_as_malformed(
    registered: Registered, why: str, edit: Edit, reader: Callable[[Registered], Any], code: int
) -> None:
    read_edited = reader(registered)

    assert refusal(lambda: read_edited(edit)) == code, why


@pytest.mark.parametrize("version", [{"major": 2, "minor": 0}, {"major": 1, "minor": 2}])
def test_a_protocol_version_other_than_1_0_or_1_1_is_refused_with_3719(
    registered: Registered, version: dict[str, int]
) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    response[0]["header"]["upv"] = version

    assert refusal(lambda: uaf.read_authentication_response(response)) == 3719


def test_a_version_1_0_response_is_read(registered: Registered) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    response[0]["header"]["upv"] = {"major": 1, "minor": 0}

    read = uaf.read_authentication_response(response)

    assert read.header.version == (1, 0)
    assert read.final_challenge.challenge == challenge
    assert read.header.server_data == challenge


def test_padded_base64url_is_read_as_unpadded() -> None:
    code = uaf.UafCode.MALFORMED_AUTHENTICATION

    assert uaf.b64url_decode("YWI=", error_code=code, what="x") == b"ab"
    assert uaf.b64url_decode("YWI", error_code=code, what="x") == b"ab"
    assert refusal(lambda: uaf.b64url_decode("YW I", error_code=code, what="x")) == code
    assert refusal(lambda: uaf.b64url_decode("YWJ", error_code=code, what="x")) == code
