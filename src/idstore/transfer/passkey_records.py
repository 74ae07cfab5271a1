"""Passkeys in an export (format version 2): a store's relying-party configurations and its
users' passkeys, as records and back as rows, every field checked as the API would have.

Nothing here is secret: a passkey's public key and counter stand in clear, and the file's HMAC
covers them like every other byte, so a swapped key or a lowered sign count fails the import
(import_file.check_end). The user handle also stands in the user's attributes, where it moves
with them (`passkeyUsers.{rpId}.USER_HANDLE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, cast

from idstore.services.errors import IdstoreError
from idstore.services.passkey_origins import check_origins, check_rp_id
from idstore.services.rows import config_from_row
from idstore.transfer import export_format as fmt
from idstore.transfer.export_format import FormatError


def config_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One relying party's configuration with its policies and origins."""
    return fmt.to_json(fmt.PASSKEY_CONFIG_FIELDS, row)


def passkey_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One passkey, with its counter, flags, user handle and registration audit."""
    return {"type": fmt.PASSKEY, **fmt.to_json(fmt.PASSKEY_FIELDS, row)}


def config_row(record: Any, where: str) -> dict[str, Any]:
    """The column values of a configuration record. Raises FormatError naming `where`: a field
    missing or mistyped, an rpId or origin the API refuses, policies idstore does not read."""
    values = fmt.from_json(fmt.PASSKEY_CONFIG_FIELDS, record, where)
    try:
        check_rp_id(values["rp_id"])
        _check_strings(values["restricted_origins"], "restrictedOrigins", where)
        check_origins(values["rp_id"], values["restricted_origins"])
        _check_policies(values["registration_policies"], "registrationPolicies", where)
        _check_policies(values["authentication_policies"], "authenticationPolicies", where)
        config_from_row(cast(Any, SimpleNamespace(store_id="", **values)))
    except IdstoreError as exc:
        raise FormatError(f"{where}: {exc.message}") from None
    except (TypeError, ValueError):
        raise FormatError(f"{where}: its policies are not ones idstore reads") from None
    return values


def passkey_row(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The column values of a passkey record. Raises FormatError naming `where`: a field
    missing or mistyped, or a public key that is no COSE key of the algorithm given."""
    values = fmt.from_json(fmt.PASSKEY_FIELDS, record, where)
    _check_strings(values["transports"], "transports", where)
    if not isinstance(values["registration_audit"], dict):
        raise FormatError(f"{where}: field 'registrationAudit' is not a JSON object")
    if values["sign_count"] < 0:
        raise FormatError(f"{where}: field 'signCount' is negative")
    # Here, not at the top: `idstore serve` imports the transfer commands with the rest of the
    # CLI, and a serving worker loads py_webauthn on its first passkey request (issue 5).
    from webauthn.helpers import decode_credential_public_key
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        algorithm = int(decode_credential_public_key(values["public_key"]).alg)
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError):
        raise FormatError(f"{where}: field 'publicKey' is not a COSE public key") from None
    if algorithm != values["algorithm"]:
        raise FormatError(f"{where}: field 'publicKey' is not a key of its 'algorithm'")
    return values


def _check_strings(value: Any, name: str, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FormatError(f"{where}: field {name!r} is not a list of strings")


def _check_policies(value: Any, name: str, where: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(item, dict) for item in value.values()):
        raise FormatError(f"{where}: field {name!r} is not a map of policies")
