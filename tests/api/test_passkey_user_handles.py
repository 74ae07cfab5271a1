"""The server owns attributes.passkeyUsers (issue 7 F1): the user API refuses to set it, and a
registration never trusts a malformed or another user's handle found there (written by an older
version or an import), so that one handle names one user and a registered user can sign in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from idstore.db import tables
from tests.support.api import Api
from tests.support.checks import assert_invalid, json_of
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.seeding import Seeder
from tests.support.webauthn_authenticator import SoftwareAuthenticator
from tests.support.webauthn_keys import b64url, b64url_decode

HOSTILE = [
    "ab",
    [1, 2],
    None,
    {RP_ID: {"USER_HANDLE": "a"}},
    {RP_ID: {"USER_HANDLE": ""}},
    {RP_ID: {"USER_HANDLE": "!!!!"}},
    {RP_ID: {"USER_HANDLE": "A" * 200}},
    {RP_ID: {"USER_HANDLE": b64url(b"chosen by the caller")}},
]
FIELD = "attributes.passkeyUsers"


@pytest.mark.parametrize("value", HOSTILE)
def test_the_user_api_refuses_to_set_passkey_users(api: Api, value: Any) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store, attributes={"team": "blue"})
    users_url = f"{api.store_url(rp.store)}/users"

    created = api.client.post(
        users_url, json={"externalId": "x", "attributes": {"passkeyUsers": value}}
    )
    updated = api.client.post(
        api.user_url(rp.store, user), json={"attributes": {"passkeyUsers": value}}
    )

    assert_invalid(created, FIELD)
    assert_invalid(updated, FIELD)
    assert api.get_user(rp.store, user)["attributes"] == {"team": "blue"}


def test_another_users_handle_cannot_be_copied_but_ones_own_may_be_sent_back(api: Api) -> None:
    rp = PasskeyStore.create(api)
    owner, other = api.create_user(rp.store), api.create_user(rp.store)
    rp.registered(owner, SoftwareAuthenticator(ORIGIN))
    owners = api.get_user(rp.store, owner)["attributes"]

    copied = api.client.post(api.user_url(rp.store, other), json={"attributes": owners})
    sent_back = api.client.post(
        api.user_url(rp.store, owner), json={"attributes": {**owners, "team": "red"}}
    )

    assert_invalid(copied, FIELD)
    assert json_of(sent_back, 200)["attributes"] == {**owners, "team": "red"}


def _plant(seeder: Seeder, user: dict[str, Any], passkey_users: Any) -> None:
    """What an older version or an import may have left in the attributes."""
    seeder.execute(
        update(tables.users)
        .where(tables.users.c.id == user["id"])
        .values(attributes={"passkeyUsers": passkey_users})
    )


@pytest.mark.parametrize("planted", HOSTILE)
def test_a_registration_replaces_a_malformed_handle_and_the_user_signs_in(
    api: Api, seeder: Seeder, planted: Any
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    _plant(seeder, user, planted)
    authenticator = SoftwareAuthenticator(ORIGIN)

    passkey = rp.registered(user, authenticator)
    signed_in = rp.sign_in(authenticator)  # discoverable: the handle names the user

    handle = passkey["userHandle"]
    assert len(b64url_decode(handle)) in (20, 32)  # the planted well-formed one, or a new one
    assert api.get_user(rp.store, user)["attributes"] == {
        "passkeyUsers": {RP_ID: {"USER_HANDLE": handle}}
    }
    assert json_of(signed_in, 200)["user"]["id"] == user["id"]


def test_a_handle_planted_from_another_user_is_not_shared(api: Api, seeder: Seeder) -> None:
    rp = PasskeyStore.create(api)
    owner, other = api.create_user(rp.store), api.create_user(rp.store)
    owners_passkey = rp.registered(owner, SoftwareAuthenticator(ORIGIN))
    _plant(seeder, other, {RP_ID: {"USER_HANDLE": owners_passkey["userHandle"]}})
    others_authenticator = SoftwareAuthenticator(ORIGIN)

    others_passkey = rp.registered(other, others_authenticator)
    signed_in = rp.sign_in(others_authenticator)

    assert others_passkey["userHandle"] != owners_passkey["userHandle"]
    assert json_of(signed_in, 200)["user"]["id"] == other["id"]
