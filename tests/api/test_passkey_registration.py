"""Passkey registration over HTTP (spec §9; issue 7 rules 4, 5, 7): options, both session modes
and id forms, the user handle, the stored passkey and its registration audit."""

from __future__ import annotations

import base64
from typing import Any

import cbor2
import pytest

from tests.support.api import Api
from tests.support.checks import content_of, error_of, json_of
from tests.support.clock import ManualClock
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.seeding import Seeder
from tests.support.totp_users import totp_user
from tests.support.webauthn_authenticator import Flag, Forgery, SoftwareAuthenticator
from tests.support.webauthn_keys import CoseAlgorithm, b64url_decode

ALL_ALGORITHMS = [-7, -8, -257]
T0 = 1111111109  # the RFC secret's code is 081804


def test_options_offer_es256_eddsa_rs256_and_a_fresh_32_byte_challenge(api: Api) -> None:
    rp = PasskeyStore.create(api, rpName="Example")
    user = api.create_user(rp.store)

    first = rp.ceremony(rp.start_registration(user))
    second = rp.ceremony(rp.start_registration(user))

    options = first.options
    assert options["rp"] == {"id": RP_ID, "name": "Example"}
    assert [param["alg"] for param in options["pubKeyCredParams"]] == ALL_ALGORITHMS
    assert len(b64url_decode(options["challenge"])) >= 16
    assert options["challenge"] != second.options["challenge"]
    assert options["attestation"] == "none"
    assert options["user"]["name"] == user["externalId"]
    assert first.session_id is not None and first.session_data is None


@pytest.mark.parametrize("algorithm", list(CoseAlgorithm))
def test_a_credential_of_each_algorithm_registers(api: Api, algorithm: CoseAlgorithm) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN, algorithm=algorithm)

    registered = json_of(rp.register(user, authenticator), 200)

    passkey = registered["passkey"]
    credential_id = next(iter(authenticator.credentials))
    assert passkey["credentialId"] == base64.urlsafe_b64encode(credential_id).rstrip(b"=").decode()
    assert (passkey["rpId"], passkey["status"], passkey["signCount"]) == (RP_ID, "ACTIVE", 0)
    assert registered["user"]["summaryInfo"]["passkeys"] == [passkey]


def test_the_user_handle_is_made_once_per_relying_party_and_kept_in_attributes(
    api: Api,
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store, attributes={"team": "blue"})

    first = rp.ceremony(rp.start_registration(user)).options["user"]["id"]
    second = rp.ceremony(rp.start_registration(user)).options["user"]["id"]
    attributes = api.get_user(rp.store, user)["attributes"]

    assert first == second
    assert len(b64url_decode(first)) == 32
    assert attributes == {"team": "blue", "passkeyUsers": {RP_ID: {"USER_HANDLE": first}}}


def test_registration_by_external_id_and_the_passkey_routes_of_both_id_forms(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store, "ext/with slash")
    ceremony = rp.ceremony(rp.start_registration(user, ext=True))
    authenticator = SoftwareAuthenticator(ORIGIN)
    completed = rp.complete(
        "registrations", ceremony, ceremony.body(authenticator.register(ceremony.options))
    )
    passkey = json_of(completed, 200)["passkey"]

    listed = api.client.get(api.user_url(rp.store, user, "passkeys", ext=True))
    got = api.client.get(api.user_url(rp.store, user, f"passkeys/{passkey['id']}", ext=True))
    audit = api.client.get(
        api.user_url(rp.store, user, f"passkeys/{passkey['id']}/registrationAudit", ext=True)
    )

    assert content_of(listed) == [passkey]
    assert got.json() == passkey
    flat = json_of(audit, 200)
    assert flat.pop("authAuditRecord")["passkeyInfo"]["id"] == passkey["id"]
    assert flat.pop("authAuditDisplayInfo") == {}
    assert flat | {"registeredDtm": None} == {
        "attestationFormat": "none",
        "aaguid": "00000000-0000-0000-0000-000000000000",
        "origin": ORIGIN,
        "flags": int(Flag.UP | Flag.UV | Flag.AT),
        "userPresent": True,
        "userVerified": True,
        "backupEligible": False,
        "backupState": False,
        "algorithm": -7,
        "policyName": "default",
        "registeredDtm": None,
    }


def test_status_change_and_delete(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    passkey = rp.registered(user, SoftwareAuthenticator(ORIGIN))
    url = api.user_url(rp.store, user, f"passkeys/{passkey['id']}")

    disabled = json_of(api.client.post(url, json={"status": "DISABLED"}), 200)
    deleted = api.client.delete(url)

    assert disabled["status"] == "DISABLED"
    assert deleted.status_code == 204
    error_of(api.client.get(url), 404, 9011)
    assert api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []


def test_an_external_session_hands_out_sealed_session_data_used_once(api: Api) -> None:
    rp = PasskeyStore.create(api, sessionManagement="EXTERNAL")
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))

    first = rp.complete("registrations", ceremony, body)
    replayed = rp.complete("registrations", ceremony, body)

    assert ceremony.session_id is None and ceremony.session_data is not None
    assert ceremony.options["challenge"] not in ceremony.session_data
    json_of(first, 200)
    error_of(replayed, 404, 9011)


def test_altered_or_missing_session_data_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api, sessionManagement="EXTERNAL")
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    assert ceremony.session_data is not None
    credential = SoftwareAuthenticator(ORIGIN).register(ceremony.options)
    session_id, sealed = ceremony.session_data.split(".")
    altered = f"{session_id}.{sealed[:-4]}{'AAAA' if sealed[-4:] != 'AAAA' else 'BBBB'}"
    url = f"{rp.base}/registrations"

    missing = api.client.post(url, json={"clientResponse": credential})
    tampered = api.client.post(url, json={"clientResponse": credential, "sessionData": altered})

    error_of(missing, 400, 384)
    error_of(tampered, 400, 386)


def _with_att_stmt(credential: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    response = credential["response"]
    decoded = cbor2.loads(b64url_decode(response["attestationObject"]))
    decoded["attStmt"] = statement
    encoded = base64.urlsafe_b64encode(cbor2.dumps(decoded)).rstrip(b"=").decode()
    return {**credential, "response": {**response, "attestationObject": encoded}}


def test_fmt_none_with_a_statement_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(ceremony.options)

    refused = rp.complete(
        "registrations", ceremony, ceremony.body(_with_att_stmt(credential, {"alg": -7}))
    )

    rp.assert_refused(user, refused, 3603, "REGISTRATION")
    assert api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []


def test_none_is_refused_when_the_policy_asks_for_attestation_and_packed_self_passes(
    api: Api,
) -> None:
    rp = PasskeyStore.create(api, registrationPolicies={"default": {"attestation": "direct"}})
    user = api.create_user(rp.store)

    refused = rp.register(user, SoftwareAuthenticator(ORIGIN))
    rp.assert_refused(user, refused, 3603, "REGISTRATION")
    accepted = rp.register(user, SoftwareAuthenticator(ORIGIN, attestation_format="packed"))

    passkey = json_of(accepted, 200)["passkey"]
    audit = api.client.get(
        api.user_url(rp.store, user, f"passkeys/{passkey['id']}/registrationAudit")
    )
    assert json_of(audit, 200)["attestationFormat"] == "packed"


def test_an_algorithm_the_policy_does_not_offer_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api, registrationPolicies={"default": {"algorithms": [-7]}})
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(
        ceremony.options, Forgery(algorithm=CoseAlgorithm.EDDSA)
    )

    refused = rp.complete("registrations", ceremony, ceremony.body(credential))

    assert [param["alg"] for param in ceremony.options["pubKeyCredParams"]] == [-7]
    rp.assert_refused(user, refused, 3602, "REGISTRATION")


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (int(Flag.BS | Flag.UP | Flag.UV), 3601),  # BS without BE
        (int(Flag.UV), 3601),  # no UP
    ],
)
def test_registration_flags_are_judged(api: Api, flags: int, code: int) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)

    refused = rp.register(user, SoftwareAuthenticator(ORIGIN), Forgery(flags=flags))

    rp.assert_refused(user, refused, code, "REGISTRATION")


def test_with_user_verification_required_0x19_is_refused_and_0x1d_registers(api: Api) -> None:
    rp = PasskeyStore.create(
        api, registrationPolicies={"default": {"userVerification": "required"}}
    )
    user = api.create_user(rp.store)

    def backed_up() -> SoftwareAuthenticator:
        return SoftwareAuthenticator(ORIGIN, is_backup_eligible=True, is_backed_up=True)

    refused = rp.register(user, backed_up(), Forgery(flags=0x19))
    rp.assert_refused(user, refused, 3601, "REGISTRATION")
    accepted = rp.registered(user, backed_up())

    audit = api.client.get(
        api.user_url(rp.store, user, f"passkeys/{accepted['id']}/registrationAudit")
    )
    assert json_of(audit, 200)["flags"] == 0x1D | int(Flag.AT)
    assert (accepted["backupEligible"], accepted["backupState"]) == (True, True)


def test_backup_eligibility_and_state_are_stored(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN, is_backup_eligible=True)

    passkey = rp.registered(user, authenticator)

    assert (passkey["backupEligible"], passkey["backupState"]) == (True, False)


def test_a_response_whose_id_is_not_the_attested_credential_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    first = rp.registered(user, SoftwareAuthenticator(ORIGIN))
    ceremony = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(
        ceremony.options, Forgery(credential_id=b64url_decode(first["credentialId"]))
    )

    refused = rp.complete("registrations", ceremony, ceremony.body(credential))

    assert ceremony.options["excludeCredentials"][0]["id"] == first["credentialId"]
    rp.assert_refused(user, refused, 3604, "REGISTRATION")
    assert len(api.get_user(rp.store, user)["summaryInfo"]["passkeys"]) == 1


def test_a_totp_authentication_answers_the_users_passkeys_in_its_summary(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    rp = PasskeyStore(api, person.store_name)
    json_of(api.client.post(f"{api.store_url(rp.store)}/passkeyConfig", json={"rpId": RP_ID}), 201)
    passkey = rp.registered(person.user, SoftwareAuthenticator(ORIGIN))
    clock.set(T0)

    authenticated = json_of(person.authenticate("081804"), 200)

    assert authenticated["user"]["summaryInfo"]["passkeys"] == [passkey]


def test_attributes_replaced_by_a_caller_get_the_passkeys_user_handle_back(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN)
    passkey = rp.registered(user, authenticator)
    json_of(api.client.post(api.user_url(rp.store, user), json={"attributes": {"x": 1}}), 200)

    signed_in = rp.sign_in(authenticator, user=user)
    handle = rp.ceremony(rp.start_registration(user)).options["user"]["id"]

    assert json_of(signed_in, 200)["passkey"]["id"] == passkey["id"]
    assert handle == passkey["userHandle"]
    assert api.get_user(rp.store, user)["attributes"] == {
        "x": 1,
        "passkeyUsers": {RP_ID: {"USER_HANDLE": handle}},
    }


def test_deleting_the_user_or_the_store_removes_passkeys_configurations_and_sessions(
    api: Api,
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    other = api.create_user(rp.store)
    rp.registered(user, SoftwareAuthenticator(ORIGIN))
    rp.registered(other, SoftwareAuthenticator(ORIGIN))
    pending = rp.ceremony(rp.start_authentication(userId=other["id"]))

    deleted_user = api.client.delete(api.user_url(rp.store, user))
    deleted_store = api.client.delete(api.store_url(rp.store), params={"force": "true"})

    assert (deleted_user.status_code, deleted_store.status_code) == (204, 204)
    error_of(rp.complete("authentications", pending, pending.body({})), 404, 3000)
