"""Options a relying party sends, made by py_webauthn: the independent side of these tests."""

from __future__ import annotations

import json
from typing import Any

from webauthn import generate_authentication_options, generate_registration_options
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

RP_ID = "example.com"
ORIGIN = "https://login.example.com"


def registration_options(
    *, user_id: bytes = b"user-7", user_verification: str = "preferred"
) -> dict[str, Any]:
    """Creation options for RP_ID as JSON, the way a server sends them."""
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Example",
        user_name="ada",
        user_id=user_id,
        authenticator_selection=AuthenticatorSelectionCriteria(
            user_verification=UserVerificationRequirement(user_verification)
        ),
    )
    return _as_json(options_to_json_dict(options))


def authentication_options(
    *, allow: list[bytes] | None = None, user_verification: str = "preferred"
) -> dict[str, Any]:
    """Request options for RP_ID as JSON; no `allow` list means discoverable sign-in."""
    options = generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=raw) for raw in allow or []],
        user_verification=UserVerificationRequirement(user_verification),
    )
    return _as_json(options_to_json_dict(options))


def _as_json(options: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(json.dumps(options))
    return decoded
