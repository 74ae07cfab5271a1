"""The requests the server sends: registration, authentication and deregistration arrays."""

from __future__ import annotations

import json

from idstore import uaf
from tests.uaf.conftest import APP_ID

CHALLENGE = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80"


def test_a_registration_request_offers_each_key_type_as_an_alternative() -> None:
    request = uaf.registration_request(
        app_id=APP_ID,
        challenge=CHALLENGE,
        username="ada",
        accepted_aaids=["ABCD#0001", "ABCD#0002"],
        key_types=["DEVICE", "BIOMETRIC"],
    )

    assert request == [
        {
            "header": {
                "upv": {"major": 1, "minor": 1},
                "op": "Reg",
                "appID": APP_ID,
                "serverData": CHALLENGE,
            },
            "challenge": CHALLENGE,
            "username": "ada",
            "policy": {
                "accepted": [
                    [
                        {
                            "assertionSchemes": ["UAFV1TLV"],
                            "aaid": ["ABCD#0001", "ABCD#0002"],
                            "userVerification": 0x485,
                        }
                    ],
                    [
                        {
                            "assertionSchemes": ["UAFV1TLV"],
                            "aaid": ["ABCD#0001", "ABCD#0002"],
                            "userVerification": 0x35A,
                        }
                    ],
                ]
            },
        }
    ]
    assert json.loads(json.dumps(request)) == request


def test_a_registration_request_without_restrictions_accepts_any_authenticator() -> None:
    request = uaf.registration_request(
        app_id=APP_ID,
        challenge=CHALLENGE,
        username="ada",
        accepted_aaids=[],
        key_types=[],
        server_data="s1",
    )

    assert request[0]["policy"] == {"accepted": [[{"assertionSchemes": ["UAFV1TLV"]}]]}
    assert request[0]["header"] == {
        "upv": {"major": 1, "minor": 1},
        "op": "Reg",
        "appID": APP_ID,
        "serverData": "s1",
    }


def test_an_authentication_request_names_keys_and_carries_the_transaction_text() -> None:
    request = uaf.authentication_request(
        app_id=APP_ID,
        challenge=CHALLENGE,
        accepted_aaids=["ABCD#0001"],
        transaction_text="Pay 10 EUR",
        key_ids=["a2V5"],
    )

    assert request == [
        {
            "header": {
                "upv": {"major": 1, "minor": 1},
                "op": "Auth",
                "appID": APP_ID,
                "serverData": CHALLENGE,
            },
            "challenge": CHALLENGE,
            "policy": {
                "accepted": [
                    [{"assertionSchemes": ["UAFV1TLV"], "aaid": ["ABCD#0001"], "keyIDs": ["a2V5"]}]
                ]
            },
            "transaction": [{"contentType": "text/plain", "content": "UGF5IDEwIEVVUg"}],
        }
    ]


def test_a_deregistration_request_names_each_key_or_all_of_them() -> None:
    some = uaf.deregistration_request(
        app_id=APP_ID, keys=[("ABCD#0001", "a2V5"), ("ABCD#0002", "")]
    )
    every = uaf.deregistration_request(app_id=APP_ID, keys=[])

    header = {"upv": {"major": 1, "minor": 1}, "op": "Dereg", "appID": APP_ID}
    assert some == [
        {
            "header": header,
            "authenticators": [
                {"aaid": "ABCD#0001", "keyID": "a2V5"},
                {"aaid": "ABCD#0002", "keyID": ""},
            ],
        }
    ]
    assert every == [{"header": header, "authenticators": [{"aaid": "", "keyID": ""}]}]
