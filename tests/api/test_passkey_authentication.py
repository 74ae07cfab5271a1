"""Passkey sign-in over HTTP (spec §9; issue 7 rules 1-4, 6): known user by either id and
discoverable, origins, rpIdHash, sign counters, flags and user handles, each audited."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.webauthn_authenticator import Flag, Forgery, SoftwareAuthenticator, rp_id_hash
from tests.support.webauthn_keys import CoseAlgorithm, b64url_decode

LOGIN_HASH = "0c6ca0839c3a5683557833f618a2556665df2a088964787d53850b4ad4d3bedc"
EXAMPLE_HASH = "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947"


def _refused(rp: PasskeyStore, user: dict[str, Any], response: Any, code: int) -> None:
    rp.assert_refused(user, response, code, "AUTHENTICATION")


@pytest.mark.parametrize("algorithm", list(CoseAlgorithm))
def test_a_known_user_signs_in_with_each_algorithm_and_it_is_audited(
    api: Api, algorithm: CoseAlgorithm
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol(SoftwareAuthenticator(ORIGIN, algorithm=algorithm))

    signed_in = json_of(rp.sign_in(authenticator, user=user), 200)

    assert signed_in["passkey"]["id"] == passkey["id"]
    assert signed_in["passkey"]["signCount"] == 1
    assert signed_in["user"]["lastSuccessfulAuthenticationDtm"] is not None
    record = rp.last_audit(user)
    assert (record["id"], record["type"], record["result"]) == (
        signed_in["authenticationId"],
        "Passkey",
        "SUCCESS",
    )
    assert record["passkeyInfo"] == {
        "rpId": RP_ID,
        "policyName": "default",
        "ceremony": "AUTHENTICATION",
        "id": passkey["id"],
        "credentialId": passkey["credentialId"],
    }


def test_the_options_for_a_known_user_allow_only_the_users_passkeys(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, _, passkey = rp.enrol()

    by_ext = rp.ceremony(rp.start_authentication(userExtId=user["externalId"]))
    discoverable = rp.ceremony(rp.start_authentication())

    assert [item["id"] for item in by_ext.options["allowCredentials"]] == [passkey["credentialId"]]
    assert by_ext.options["rpId"] == RP_ID
    assert discoverable.options.get("allowCredentials", []) == []


def test_a_user_without_a_passkey_for_the_relying_party_cannot_start(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)

    error_of(rp.start_authentication(userId=user["id"]), 400, 364)


def test_discoverable_sign_in_finds_the_user_by_credential_and_handle(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()

    signed_in = json_of(rp.sign_in(authenticator), 200)

    assert (signed_in["user"]["id"], signed_in["passkey"]["id"]) == (user["id"], passkey["id"])


# Rule 1: origins


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://login.example.com", 354),
        ("http://login.example.com:8443", 382),
        ("https://login.example.com.evil.test", 383),
    ],
)
def test_only_the_listed_origin_is_accepted(api: Api, origin: str, code: int) -> None:
    rp = PasskeyStore.create(api, restrictedOrigins=["https://login.example.com:8443"])
    user, authenticator, _ = rp.enrol(SoftwareAuthenticator("https://login.example.com:8443"))

    refused = rp.sign_in(authenticator, Forgery(origin=origin), user=user)
    _refused(rp, user, refused, code)
    accepted = rp.sign_in(authenticator, user=user)

    json_of(accepted, 200)


def test_without_a_list_another_domain_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(origin="https://notexample.com"), user=user)

    _refused(rp, user, refused, 383)


# Rule 2: rpIdHash; one credential from every subdomain


def test_the_rp_id_hashes_are_those_of_the_issue() -> None:
    assert rp_id_hash("example.com").hex() == EXAMPLE_HASH
    assert rp_id_hash("login.example.com").hex() == LOGIN_HASH


def test_an_assertion_for_another_rp_id_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(rp_id_hash=bytes.fromhex(LOGIN_HASH)), user=user)

    _refused(rp, user, refused, 383)


def test_one_credential_works_from_two_subdomains(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    login = rp.sign_in(authenticator, Forgery(origin="https://login.example.com"), user=user)
    app = rp.sign_in(authenticator, Forgery(origin="https://app.example.com"), user=user)

    assert (login.status_code, app.status_code) == (200, 200)


# Rule 3: sign counters


def test_counters_that_stay_zero_are_accepted_and_stay_zero(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol(SoftwareAuthenticator(ORIGIN, counter_step=0))

    first = json_of(rp.sign_in(authenticator, user=user), 200)
    second = json_of(rp.sign_in(authenticator, user=user), 200)

    assert (first["passkey"]["signCount"], second["passkey"]["signCount"]) == (0, 0)
    assert rp.passkey(user, passkey["id"])["signCount"] == 0


def test_a_counter_from_zero_to_seven_is_stored(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()

    json_of(rp.sign_in(authenticator, Forgery(sign_count=7), user=user), 200)

    assert rp.passkey(user, passkey["id"])["signCount"] == 7


@pytest.mark.parametrize("new", [7, 0, 3])
def test_a_counter_that_does_not_increase_is_refused_and_not_stored(api: Api, new: int) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    json_of(rp.sign_in(authenticator, Forgery(sign_count=7), user=user), 200)

    refused = rp.sign_in(authenticator, Forgery(sign_count=new), user=user)

    _refused(rp, user, refused, 372)
    assert rp.passkey(user, passkey["id"])["signCount"] == 7


# Rule 4: flags

UP_UV = int(Flag.UP | Flag.UV)


def test_bs_without_be_is_refused_at_authentication(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(flags=UP_UV | Flag.BS), user=user)

    _refused(rp, user, refused, 3601)


def test_backup_eligibility_may_not_change_and_backup_state_may_turn_on(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()

    became_eligible = rp.sign_in(authenticator, Forgery(flags=UP_UV | Flag.BE), user=user)
    _refused(rp, user, became_eligible, 3601)

    eligible = SoftwareAuthenticator(ORIGIN, is_backup_eligible=True)
    rp2 = PasskeyStore.create(api)
    user2, _, passkey2 = rp2.enrol(eligible)
    backed_up = rp2.sign_in(eligible, Forgery(flags=UP_UV | Flag.BE | Flag.BS), user=user2)

    assert json_of(backed_up, 200)["passkey"]["backupState"] is True
    assert rp2.passkey(user2, passkey2["id"])["backupState"] is True
    assert rp.passkey(user, passkey["id"])["backupEligible"] is False


def test_user_verification_required_refuses_0x19_and_accepts_0x1d(api: Api) -> None:
    eligible = SoftwareAuthenticator(ORIGIN, is_backup_eligible=True, is_backed_up=True)
    rp = PasskeyStore.create(
        api, authenticationPolicies={"default": {"userVerification": "required"}}
    )
    user, _, passkey = rp.enrol(eligible)

    without_uv = rp.sign_in(eligible, Forgery(flags=0x19), user=user)
    _refused(rp, user, without_uv, 3601)
    with_uv = rp.sign_in(eligible, Forgery(flags=0x1D), user=user)

    assert json_of(with_uv, 200)["passkey"]["id"] == passkey["id"]
    assert rp.ceremonies(user)[-2:] == [
        ("AUTHENTICATION", "FAILURE"),
        ("AUTHENTICATION", "SUCCESS"),
    ]


def test_user_presence_unset_is_always_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(flags=int(Flag.UV)), user=user)

    _refused(rp, user, refused, 3601)


# Rule 6: user handles


def test_with_allow_credentials_a_response_without_user_handle_is_accepted(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    signed_in = rp.sign_in(authenticator, Forgery(omits_user_handle=True), user=user)

    assert json_of(signed_in, 200)["user"]["id"] == user["id"]


@pytest.mark.parametrize("forgery", [Forgery(omits_user_handle=True), Forgery(user_handle=b"")])
def test_discoverable_without_a_user_handle_is_refused(api: Api, forgery: Forgery) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, forgery)

    _refused(rp, user, refused, 365)


def test_discoverable_with_another_users_handle_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()
    other = api.create_user(rp.store)
    other_handle = rp.ceremony(rp.start_registration(other)).options["user"]["id"]

    refused = rp.sign_in(authenticator, Forgery(user_handle=b64url_decode(other_handle)))

    _refused(rp, user, refused, 365)


def test_another_users_credential_is_refused_with_363(api: Api) -> None:
    rp = PasskeyStore.create(api)
    _, authenticator, _ = rp.enrol()
    other = api.create_user(rp.store)
    other_authenticator = SoftwareAuthenticator(ORIGIN)
    rp.registered(other, other_authenticator)
    ceremony = rp.ceremony(rp.start_authentication(userId=other["id"]))
    assertion = authenticator.authenticate({**ceremony.options, "allowCredentials": []})

    refused = rp.complete("authentications", ceremony, ceremony.body(assertion))

    _refused(rp, other, refused, 363)


def test_a_disabled_passkey_is_refused_with_348(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    url = api.user_url(rp.store, user, f"passkeys/{passkey['id']}")
    json_of(api.client.post(url, json={"status": "DISABLED"}), 200)

    refused = rp.complete(
        "authentications", ceremony, ceremony.body(authenticator.authenticate(ceremony.options))
    )

    _refused(rp, user, refused, 348)


def test_a_bad_signature_is_refused_and_counts_towards_the_modality_lock(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(signature=b"\x30\x00"), user=user)

    _refused(rp, user, refused, 3604)
    locks = refused.json()["user"]["locks"]["modalities"]
    assert locks["Passkey"]["failedAttempts"] == 1


def test_a_known_user_named_by_external_id_signs_in(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userExtId=user["externalId"]))

    signed_in = rp.complete(
        "authentications", ceremony, ceremony.body(authenticator.authenticate(ceremony.options))
    )

    assert json_of(signed_in, 200)["passkey"]["id"] == passkey["id"]


def test_an_http_localhost_origin_listed_exactly_registers_and_signs_in(api: Api) -> None:
    authenticator = SoftwareAuthenticator("http://localhost:8123")
    rp = PasskeyStore.create(api, "localhost", restrictedOrigins=["http://localhost:8123"])
    user, _, passkey = rp.enrol(authenticator)

    signed_in = rp.sign_in(authenticator, user=user)
    discoverable = rp.sign_in(authenticator)
    other_port = rp.sign_in(authenticator, Forgery(origin="http://localhost:8124"), user=user)

    assert json_of(signed_in, 200)["passkey"]["id"] == passkey["id"]
    assert json_of(discoverable, 200)["user"]["id"] == user["id"]
    _refused(rp, user, other_port, 382)
