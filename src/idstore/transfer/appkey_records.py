"""Appkeys in an export (format version 3): a store's appkey configurations and its users'
appkeys, as records and back as rows, every field checked as the API would have.

Nothing here is secret: an appkey's public key and counter stand in clear, and the file's HMAC
covers them like every other byte, so a swapped key or a lowered sign count fails the import
(import_file.check_end). The single-shot challenges a key had accepted move with it, so that a
single-shot assertion accepted before the move is refused after it (1090), as it would have been.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.services.appkey_facets import check_facets, check_rp_id
from idstore.services.appkey_policies import (
    BASIC_FULL,
    BASIC_SURROGATE,
    authentication_policies_from_json,
    check_root_certificate,
    registration_policies_from_json,
)
from idstore.services.errors import IdstoreError
from idstore.transfer import export_format as fmt
from idstore.transfer.export_format import FormatError
from idstore.uaf import UafCode, UafError
from idstore.uaf.keys import KeyEncoding, public_key_der, signature_algorithm

# As the API bounds them (api/schemas/appkeys.py).
_SINGLE_SHOT_WINDOW_SECONDS = range(1, 3601)
_TIMEOUT_SECONDS = range(10, 3601)
_ATTESTATIONS = (None, BASIC_FULL, BASIC_SURROGATE)
# UAF AAID: vendor and product, four hex digits each. Used with fullmatch only.
_AAID = re.compile(r"[0-9A-Fa-f]{4}#[0-9A-Fa-f]{4}")
_CHALLENGES = tables.appkey_single_shot_challenges
_POLICY_MAPS = (
    ("registration_policies", "registrationPolicies"),
    ("authentication_policies", "authenticationPolicies"),
)


def config_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One relying party's appkey configuration with its facets and policies."""
    return fmt.to_json(fmt.APPKEY_CONFIG_FIELDS, row)


def appkey_record(row: Mapping[Any, Any], challenges: Sequence[Row[Any]]) -> dict[str, Any]:
    """One appkey, with its counter, status, public key, registration audit and the single-shot
    challenges it had accepted."""
    return {
        "type": fmt.APPKEY,
        **fmt.to_json(fmt.APPKEY_FIELDS, row),
        "singleShotChallenges": [
            fmt.to_json(fmt.SINGLE_SHOT_FIELDS, challenge._mapping) for challenge in challenges
        ],
    }


async def accepted_challenges(
    conn: AsyncConnection, appkey_ids: list[str]
) -> dict[str, list[Row[Any]]]:
    """The single-shot challenges these appkeys had accepted, by appkey, oldest first."""
    by_appkey: dict[str, list[Row[Any]]] = {appkey_id: [] for appkey_id in appkey_ids}
    if not appkey_ids:
        return by_appkey
    rows = await conn.execute(
        select(_CHALLENGES)
        .where(_CHALLENGES.c.appkey_id.in_(appkey_ids))
        .order_by(_CHALLENGES.c.accepted_dtm, _CHALLENGES.c.challenge)
    )
    for row in rows:
        by_appkey[row.appkey_id].append(row)
    return by_appkey


def config_row(record: Any, where: str) -> dict[str, Any]:
    """The column values of an appkey configuration record. Raises FormatError naming `where`:
    a field missing or mistyped, an rpId, facet or root certificate the API refuses, a window
    out of its range, policies idstore does not read."""
    values = fmt.from_json(fmt.APPKEY_CONFIG_FIELDS, record, where)
    if values["single_shot_window_seconds"] not in _SINGLE_SHOT_WINDOW_SECONDS:
        raise FormatError(f"{where}: field 'singleShotWindowSeconds' is not from 1 to 3600")
    _check_strings(values["trusted_facets"], "trustedFacets", where)
    try:
        check_rp_id(values["rp_id"])
        if list(check_facets(values["trusted_facets"])) != values["trusted_facets"]:
            raise FormatError(f"{where}: field 'trustedFacets' is not in its canonical form")
        _check_policies(values, where)
    except IdstoreError as exc:
        raise FormatError(f"{where}: {exc.message}") from None
    return values


def _check_policies(values: dict[str, Any], where: str) -> None:
    for column, name in _POLICY_MAPS:
        policies = values[column]
        if not isinstance(policies, dict) or not all(
            isinstance(policy, dict) for policy in policies.values()
        ):
            raise FormatError(f"{where}: field {name!r} is not a map of policies")
    try:
        registration = registration_policies_from_json(values["registration_policies"])
        authentication = authentication_policies_from_json(values["authentication_policies"])
    except (TypeError, ValueError):
        raise FormatError(f"{where}: its policies are not ones idstore reads") from None
    if any(policy.timeout_seconds not in _TIMEOUT_SECONDS for policy in authentication.values()):
        raise FormatError(f"{where}: an authentication policy's timeoutSeconds is out of range")
    for name, policy in registration.items():
        field = f"registrationPolicies.{name}"
        if not all(isinstance(aaid, str) and _AAID.fullmatch(aaid) for aaid in policy.aaids):
            raise FormatError(f"{where}: {field}.aaids holds something that is no AAID")
        if policy.attestation not in _ATTESTATIONS or (
            policy.attestation == BASIC_FULL and not policy.attestation_root_certificates
        ):
            raise FormatError(f"{where}: {field}.attestation is not one idstore reads")
        for number, root in enumerate(policy.attestation_root_certificates):
            check_root_certificate(root, f"{field}.attestationRootCertificates[{number}]")


def appkey_row(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The column values of an appkey record. Raises FormatError naming `where`: a field
    missing or mistyped, an AAID that is none, a negative counter, or a public key that is no
    DER key of the signature algorithm given (or an algorithm idstore does not verify)."""
    values = fmt.from_json(fmt.APPKEY_FIELDS, record, where)
    if not _AAID.fullmatch(values["aaid"]):
        raise FormatError(f"{where}: field 'aaid' is not an AAID (XXXX#XXXX in hex)")
    if values["sign_count"] < 0:
        raise FormatError(f"{where}: field 'signCount' is negative")
    if not isinstance(values["registration_audit"], dict):
        raise FormatError(f"{where}: field 'registrationAudit' is not a JSON object")
    try:
        algorithm = signature_algorithm(values["signature_algorithm"])
        # The stored key is the DER SubjectPublicKeyInfo registration made: read back, the same.
        canonical = public_key_der(
            KeyEncoding.ECC_X962_DER,
            values["public_key"],
            algorithm=algorithm,
            error_code=UafCode.MALFORMED_REGISTRATION,
        )
    except UafError:
        raise FormatError(
            f"{where}: field 'publicKey' is not a DER public key of its 'signatureAlgorithm'"
        ) from None
    if canonical != values["public_key"]:
        raise FormatError(f"{where}: field 'publicKey' is not a DER SubjectPublicKeyInfo")
    return values


def challenge_rows(record: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """The column values of the appkey's accepted single-shot challenges (appkey_id and
    store_id left to the caller). Raises FormatError naming `where`."""
    challenges = record.get("singleShotChallenges")
    if not isinstance(challenges, list):
        raise FormatError(f"{where}: field 'singleShotChallenges' is not a list")
    rows = [
        fmt.from_json(fmt.SINGLE_SHOT_FIELDS, challenge, f"{where} single-shot challenge {number}")
        for number, challenge in enumerate(challenges)
    ]
    if len({row["challenge"] for row in rows}) != len(rows):
        raise FormatError(f"{where}: field 'singleShotChallenges' repeats a challenge")
    return rows


def _check_strings(value: Any, name: str, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FormatError(f"{where}: field {name!r} is not a list of strings")
