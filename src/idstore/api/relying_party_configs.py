"""What the routes of passkey and appkey configurations share: reading an update's body."""

from __future__ import annotations

from typing import Any

from idstore.api.schemas.common import RequestBody
from idstore.services.errors import InvalidField
from idstore.services.relying_party_configs import ConfigChanges


def config_changes(body: RequestBody) -> ConfigChanges:
    """The fields `body` gave, its policy maps apart (each policy by the fields it gave)."""
    given = body.given()
    given.pop("rp_id", None)
    registration: dict[str, Any] | None = given.pop("registration_policies", None)
    authentication: dict[str, Any] | None = given.pop("authentication_policies", None)
    return ConfigChanges(
        values=given,
        registration_policies=None
        if registration is None
        else {name: policy.given() for name, policy in registration.items()},
        authentication_policies=None
        if authentication is None
        else {name: policy.given() for name, policy in authentication.items()},
    )


def check_path_rp_id(given: str | None, rp_id: str) -> None:
    """An update may repeat the relying party id of its path, not name another. Raises 9002."""
    if given is not None and given != rp_id:
        raise InvalidField.of("rpId", "must equal the relying party id in the path")
