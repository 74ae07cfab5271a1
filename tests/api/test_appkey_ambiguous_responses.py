"""UAF responses that two parsers could read differently are malformed (1091 at sign-in, 3711 at
registration), correctly signed or not: FinalChallengeParams, or a clientResponse sent as a JSON
string, naming a member twice (which is the challenge, the facet, the operation?) or holding a
constant that is no JSON. The signature covers fcParams' bytes, not one reading of them.
Malformed messages are audited and counted nowhere (spec §6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ambiguous_json import (
    NOT_JSON_CONSTANTS,
    Raw,
    adding,
    both_orders,
    repeating,
    spelled,
)
from tests.support.api import Api
from tests.support.appkey_ceremonies import FACET, AppkeyStore, refused
from tests.support.checks import json_of
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, Tamper

OTHER_PARAMS = {
    "challenge": "d3Jvbmc",
    "facetID": "https://evil.example.net",
    "appID": "https://other.example.org/facets",
}
PARAMS_REPEATS = both_orders(OTHER_PARAMS)
ORDERS = [pytest.param(True, id="honest-first"), pytest.param(False, id="other-first")]


def _params_repeating(name: str, *, honest_first: bool) -> Tamper:
    other = OTHER_PARAMS[name]

    def rewrite(honest: str) -> str:
        return spelled(repeating(json.loads(honest), name, other, honest_first=honest_first))

    return Tamper(rewrite_fc_params=rewrite)


def _params_adding(constant: str) -> Tamper:
    return Tamper(
        rewrite_fc_params=lambda honest: spelled(adding(json.loads(honest), "x", Raw(constant)))
    )


def _as_string(rewrite_message: Callable[[dict[str, Any]], Any]) -> Callable[[Any], str]:
    """The response array as a JSON string whose one message `rewrite_message` spells."""
    return lambda response: spelled([rewrite_message(response[0])])


def _header_repeating(other_op: str, *, honest_first: bool) -> Callable[[Any], str]:
    def rewrite(message: dict[str, Any]) -> Any:
        other = {**message["header"], "op": other_op}
        return repeating(message, "header", other, honest_first=honest_first)

    return _as_string(rewrite)


def _message_adding(constant: str) -> Callable[[Any], str]:
    return _as_string(lambda message: adding(message, "x", Raw(constant)))


def _enrolled(api: Api) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator]:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator()
    rp.registered(user, authenticator)
    json_of(rp.sign_in(authenticator, user=user), 200)  # the stored counter is 1
    return rp, user, authenticator


def _sign_in_as_string(
    rp: AppkeyStore,
    user: dict[str, Any],
    authenticator: SoftwareUafAuthenticator,
    spell: Callable[[Any], str],
) -> Any:
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    response = authenticator.authenticate(ceremony.request, FACET)
    return rp.complete("authentications", ceremony, ceremony.body(spell(response)))


def _malformed_changing_nothing(
    rp: AppkeyStore, user: dict[str, Any], answer: Any, code: int
) -> dict[str, Any]:
    """Refused as malformed: audited, not counted, every appkey of the user as it was."""
    before = rp.api.get_user(rp.store, user)["summaryInfo"]["appkeys"]
    refusal = refused(answer, code)
    assert AppkeyStore.failed_attempts(refusal["user"]) == 0
    assert refusal["user"]["summaryInfo"]["appkeys"] == before
    record = rp.last_audit(user)
    assert (record["result"], record["errorCode"]) == ("FAILURE", code)
    return refusal


@pytest.mark.parametrize(("name", "honest_first"), PARAMS_REPEATS)
def test_a_signed_sign_in_whose_final_challenge_params_name_a_member_twice_is_1091(
    api: Api, name: str, honest_first: bool
) -> None:
    rp, user, authenticator = _enrolled(api)
    tamper = _params_repeating(name, honest_first=honest_first)

    answer = rp.sign_in(authenticator, user=user, tamper=tamper)

    assert name in _malformed_changing_nothing(rp, user, answer, 1091)["message"]


@pytest.mark.parametrize("constant", NOT_JSON_CONSTANTS)
def test_a_signed_sign_in_whose_final_challenge_params_hold_no_json_number_is_1091(
    api: Api, constant: str
) -> None:
    rp, user, authenticator = _enrolled(api)

    answer = rp.sign_in(authenticator, user=user, tamper=_params_adding(constant))

    _malformed_changing_nothing(rp, user, answer, 1091)


@pytest.mark.parametrize("honest_first", ORDERS)
def test_a_client_response_string_naming_a_member_twice_is_1091(
    api: Api, honest_first: bool
) -> None:
    rp, user, authenticator = _enrolled(api)
    spell = _header_repeating("Reg", honest_first=honest_first)

    answer = _sign_in_as_string(rp, user, authenticator, spell)

    assert "header" in _malformed_changing_nothing(rp, user, answer, 1091)["message"]


@pytest.mark.parametrize("constant", NOT_JSON_CONSTANTS)
def test_a_client_response_string_holding_no_json_number_is_1091(api: Api, constant: str) -> None:
    rp, user, authenticator = _enrolled(api)

    answer = _sign_in_as_string(rp, user, authenticator, _message_adding(constant))

    _malformed_changing_nothing(rp, user, answer, 1091)


def test_the_same_client_response_string_spelled_plainly_signs_in(api: Api) -> None:
    # Guards the string tests above: the string form itself is accepted.
    rp, user, authenticator = _enrolled(api)

    answer = _sign_in_as_string(rp, user, authenticator, _as_string(lambda message: message))

    assert json_of(answer, 200)["appkey"]["signCount"] == 2


def _registration_refused(answer: Any, rp: AppkeyStore, user: dict[str, Any]) -> None:
    refusal = refused(answer, 3711)
    assert refusal["user"]["summaryInfo"].get("appkeys", []) == []
    assert AppkeyStore.failed_attempts(refusal["user"]) == 0
    assert (rp.last_audit(user)["result"], rp.last_audit(user)["errorCode"]) == ("FAILURE", 3711)


@pytest.mark.parametrize(("name", "honest_first"), PARAMS_REPEATS)
def test_a_registration_whose_final_challenge_params_name_a_member_twice_is_3711(
    api: Api, name: str, honest_first: bool
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    tamper = _params_repeating(name, honest_first=honest_first)

    answer = rp.register(user, SoftwareUafAuthenticator(), tamper=tamper)

    _registration_refused(answer, rp, user)


@pytest.mark.parametrize("honest_first", ORDERS)
def test_a_registration_response_string_naming_a_member_twice_is_3711(
    api: Api, honest_first: bool
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    response = SoftwareUafAuthenticator().register(
        ceremony.request, FACET, attestation="BASIC_SURROGATE"
    )
    spell = _header_repeating("Auth", honest_first=honest_first)

    answer = rp.complete("registrations", ceremony, ceremony.body(spell(response)))

    _registration_refused(answer, rp, user)


def test_a_signed_sign_in_whose_final_challenge_params_start_with_a_byte_order_mark_is_1091(
    api: Api,
) -> None:
    # UAF encodes fcParams as UTF-8; json.loads would skip the mark, another reader not.
    rp, user, authenticator = _enrolled(api)
    tamper = Tamper(rewrite_fc_params=lambda honest: "\ufeff" + honest)

    answer = rp.sign_in(authenticator, user=user, tamper=tamper)

    assert "UTF-8" in _malformed_changing_nothing(rp, user, answer, 1091)["message"]
