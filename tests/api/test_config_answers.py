"""A write of a relying party's configuration (POST …/passkeyConfig, …/appkeyConfig and their
/{rpId}) answers the configuration as its GET shows it and, beside it, the store's configuration
exactly as GET …/{storeName} shows it after the write (changelog of 2025-12-01;
docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import json_of


@dataclass(frozen=True)
class Kind:
    """One kind of relying party configuration: its collection, the store configuration's map of
    it, a body creating one and a change to it."""

    collection: str
    policies: str
    create: dict[str, Any]
    change: dict[str, Any]


KINDS = {
    "passkey": Kind(
        "passkeyConfig",
        "passkeyPolicies",
        {"rpId": "example.com", "rpName": "Example"},
        {"rpName": "Renamed"},
    ),
    "appkey": Kind(
        "appkeyConfig",
        "appkeyPolicies",
        {"rpId": "example.com", "trustedFacets": ["https://example.com"]},
        {"singleShotWindowSeconds": 60},
    ),
}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


@pytest.fixture
def store(api: Api) -> str:
    return str(api.create_store({"totpPolicies": {"default": {}}})["name"])


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer's configuration of the relying party, and the store's beside it."""
    beside = body.pop("configuration")
    return body, beside


def _store_configuration(api: Api, store: str) -> dict[str, Any]:
    return dict(json_of(api.client.get(api.store_url(store)), 200)["configuration"])


def test_a_created_configuration_answers_the_store_configuration(
    api: Api, store: str, kind: Kind
) -> None:
    answer = api.client.post(f"{api.store_url(store)}/{kind.collection}", json=kind.create)

    config, beside = _split(json_of(answer, 201))

    url = f"{api.store_url(store)}/{kind.collection}/example.com"
    assert config == json_of(api.client.get(url), 200)
    assert beside == _store_configuration(api, store)
    assert beside[kind.policies] == {"example.com": config}
    assert list(beside["totpPolicies"]) == ["default"]


def test_an_updated_configuration_answers_the_store_configuration(
    api: Api, store: str, kind: Kind
) -> None:
    json_of(api.client.post(f"{api.store_url(store)}/{kind.collection}", json=kind.create), 201)
    url = f"{api.store_url(store)}/{kind.collection}/example.com"

    config, beside = _split(json_of(api.client.post(url, json=kind.change), 200))

    assert config == json_of(api.client.get(url), 200)
    assert config.items() >= kind.change.items()
    assert beside == _store_configuration(api, store)
    assert beside[kind.policies] == {"example.com": config}


def test_an_empty_update_answers_the_store_configuration_unchanged(
    api: Api, store: str, kind: Kind
) -> None:
    json_of(api.client.post(f"{api.store_url(store)}/{kind.collection}", json=kind.create), 201)
    before = _store_configuration(api, store)
    url = f"{api.store_url(store)}/{kind.collection}/example.com"

    _, beside = _split(json_of(api.client.post(url, json={}), 200))

    assert beside == before == _store_configuration(api, store)


def test_an_answer_sent_back_as_an_update_is_taken(api: Api, store: str, kind: Kind) -> None:
    created = api.client.post(f"{api.store_url(store)}/{kind.collection}", json=kind.create)
    answer = json_of(created, 201)
    url = f"{api.store_url(store)}/{kind.collection}/example.com"

    sent_back = api.client.post(url, json={**answer, "configuration": {"tampered": True}})

    config, beside = _split(json_of(sent_back, 200))
    assert _but_for_update_instant(config) == _but_for_update_instant(_split(answer)[0])
    assert beside == _store_configuration(api, store)
    assert "tampered" not in beside


def _but_for_update_instant(config: dict[str, Any]) -> dict[str, Any]:
    """An update may set `lastUpdatedDtm` where it changes nothing else."""
    return {key: value for key, value in config.items() if key != "lastUpdatedDtm"}
