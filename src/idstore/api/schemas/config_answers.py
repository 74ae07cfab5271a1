"""The answers of POST …/passkeyConfig(/{rpId}) and …/appkeyConfig(/{rpId}): the relying party's
configuration (API.md §9, §10) and, added beside it, the store's `configuration` as
`GET …/{storeName}` shows it after the write (the changelog of 2025-12-01; docs/decisions.md).
Apart from the other schemas because the store's configuration holds both kinds."""

from __future__ import annotations

from idstore.api.schemas.appkeys import AppkeyConfigOut
from idstore.api.schemas.passkeys import PasskeyConfigOut
from idstore.api.schemas.stores import ConfigurationOut


class PasskeyConfigWrittenOut(PasskeyConfigOut):
    configuration: ConfigurationOut


class AppkeyConfigWrittenOut(AppkeyConfigOut):
    configuration: ConfigurationOut
