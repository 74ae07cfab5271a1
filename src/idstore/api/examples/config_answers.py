"""Examples of the answers of a relying party's configuration written: the configuration with
the store's configuration after the write, which now lists that relying party."""

from __future__ import annotations

from idstore.api.examples import appkeys, passkeys
from idstore.api.examples.stores import STORE
from idstore.api.examples.values import Json


def _written(config: Json, field: str) -> Json:
    store_configuration = {**STORE["configuration"], field: {config["rpId"]: config}}
    return {**config, "configuration": store_configuration}


PASSKEY_CONFIG_WRITTEN = _written(passkeys.CONFIG, "passkeyPolicies")
APPKEY_CONFIG_WRITTEN = _written(appkeys.CONFIG, "appkeyPolicies")
