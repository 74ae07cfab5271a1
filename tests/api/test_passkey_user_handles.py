"""The server owns attributes.passkeyUsers (issue 7 F1): the user API ignores a client's and keeps
the server's through every update of attributes, and a registration never trusts a malformed or
another user's handle found there (written by an older version or an import), so that one handle
names one user and a registered user can sign in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, update

from idstore.db import tables
from tests.support.api import Api
from tests.support.checks import json_of
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


@pytest.mark.parametrize("value", HOSTILE)
def test_the_user_api_ignores_passkey_users_a_client_sends(api: Api, value: Any) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store, attributes={"team": "blue"})
    users_url = f"{api.store_url(rp.store)}/users"

    created = api.client.post(
        users_url, json={"externalId": "x", "attributes": {"passkeyUsers": value, "team": "red"}}
    )
    updated = api.client.post(
        api.user_url(rp.store, user), json={"attributes": {"passkeyUsers": value, "team": "green"}}
    )

    assert json_of(created, 201)["attributes"] == {"team": "red"}
    assert json_of(updated, 200)["attributes"] == {"team": "green"}
    assert api.get_user(rp.store, user)["attributes"] == {"team": "green"}


def test_another_users_handle_cannot_be_copied_and_ones_own_stays(api: Api) -> None:
    rp = PasskeyStore.create(api)
    owner, other = api.create_user(rp.store), api.create_user(rp.store)
    rp.registered(owner, SoftwareAuthenticator(ORIGIN))
    owners = api.get_user(rp.store, owner)["attributes"]

    copied = api.client.post(api.user_url(rp.store, other), json={"attributes": owners})
    sent_back = api.client.post(
        api.user_url(rp.store, owner), json={"attributes": {**owners, "team": "red"}}
    )

    assert json_of(copied, 200)["attributes"] == {}
    assert json_of(sent_back, 200)["attributes"] == {**owners, "team": "red"}


@pytest.mark.parametrize("attributes", [{"tier": "gold"}, None, {}])
def test_an_attributes_update_keeps_the_users_handles(
    api: Api, attributes: dict[str, Any] | None
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    handles = {"passkeyUsers": {RP_ID: {"USER_HANDLE": passkey["userHandle"]}}}

    updated = api.client.post(api.user_url(rp.store, user), json={"attributes": attributes})

    assert json_of(updated, 200)["attributes"] == {**(attributes or {}), **handles}
    assert api.get_user(rp.store, user)["attributes"] == {**(attributes or {}), **handles}
    assert json_of(rp.sign_in(authenticator), 200)["user"]["id"] == user["id"]


def test_a_handle_lost_from_the_attributes_comes_back_from_the_handle_table(
    api: Api, seeder: Seeder
) -> None:
    rp = PasskeyStore.create(api)
    user, _, passkey = rp.enrol()
    _plant(seeder, user, None)  # as an older version's attributes update left it
    passkeys = tables.user_passkeys.c
    seeder.execute(delete(tables.user_passkeys).where(passkeys.id == passkey["id"]))

    updated = api.client.post(api.user_url(rp.store, user), json={"attributes": {"tier": "gold"}})
    again = rp.registered(user, SoftwareAuthenticator(ORIGIN))

    handles = {"passkeyUsers": {RP_ID: {"USER_HANDLE": passkey["userHandle"]}}}
    assert json_of(updated, 200)["attributes"] == {"tier": "gold", **handles}
    assert again["userHandle"] == passkey["userHandle"]


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
