"""Registration and authentication policies of an appkey configuration (spec §10): their checks,
how an update merges into them, and their stored JSON form.

Pure functions. A policy given in an update merges field by field into the policy of that name;
checks run on the merged result, so a partial update cannot leave a policy that breaks a rule.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from idstore.services.errors import InvalidField
from idstore.services.models import (
    AppkeyAuthenticationPolicy,
    AppkeyRegistrationPolicy,
    AppkeyType,
    JsonObject,
)

BASIC_FULL = "BASIC_FULL"
BASIC_SURROGATE = "BASIC_SURROGATE"
# UAF AAID: vendor and product, four hex digits each. Used with fullmatch only.
_AAID = re.compile(r"[0-9A-Fa-f]{4}#[0-9A-Fa-f]{4}")


def merged_registration_policies(
    current: Mapping[str, AppkeyRegistrationPolicy], given: dict[str, dict[str, Any]]
) -> dict[str, AppkeyRegistrationPolicy]:
    """`current` with the given policies merged in by name. Raises InvalidField (9002)."""
    merged = dict(current)
    for name, values in given.items():
        field = f"registrationPolicies.{name}"
        policy = replace(merged.get(name, AppkeyRegistrationPolicy()), **_tuples(values))
        merged[name] = _checked_registration(policy, field)
    return merged


def merged_authentication_policies(
    current: Mapping[str, AppkeyAuthenticationPolicy], given: dict[str, dict[str, Any]]
) -> dict[str, AppkeyAuthenticationPolicy]:
    """`current` with the given policies merged in by name. Raises InvalidField (9002)."""
    merged = dict(current)
    for name, values in given.items():
        policy = replace(merged.get(name, AppkeyAuthenticationPolicy()), **_tuples(values))
        merged[name] = replace(policy, key_types=_key_types(policy.key_types))
    return merged


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    # Lists from the request become tuples, duplicates dropped, order kept.
    return {
        key: tuple(dict.fromkeys(value)) if isinstance(value, list) else value
        for key, value in values.items()
    }


def _key_types(key_types: tuple[Any, ...]) -> tuple[AppkeyType, ...]:
    return tuple(AppkeyType(key_type) for key_type in key_types)


def _checked_registration(policy: AppkeyRegistrationPolicy, field: str) -> AppkeyRegistrationPolicy:
    for index, aaid in enumerate(policy.aaids):
        if not _AAID.fullmatch(aaid):
            raise InvalidField.of(f"{field}.aaids[{index}]", "must be an AAID: XXXX#XXXX in hex")
    for index, encoded in enumerate(policy.attestation_root_certificates):
        check_root_certificate(encoded, f"{field}.attestationRootCertificates[{index}]")
    if policy.attestation == BASIC_FULL and not policy.attestation_root_certificates:
        raise InvalidField.of(
            f"{field}.attestationRootCertificates",
            "BASIC_FULL attestation needs at least one root certificate to chain to",
        )
    return replace(policy, key_types=_key_types(policy.key_types))


def check_root_certificate(encoded: str, field: str) -> x509.Certificate:
    """A base64 DER certificate that is a CA (basicConstraints cA true) with a key this service
    can verify signatures with. Raises 9002."""
    try:
        der = base64.b64decode(encoded, validate=True)
        certificate = x509.load_der_x509_certificate(der)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        certificate.public_key()  # a root whose key cannot load would refuse every chain
    except UnsupportedAlgorithm:
        raise InvalidField.of(field, "its public key's algorithm is not supported") from None
    except (binascii.Error, ValueError, x509.InvalidVersion, x509.DuplicateExtension):
        raise InvalidField.of(field, "must be a base64 DER X.509 certificate") from None
    except x509.ExtensionNotFound:
        raise InvalidField.of(field, "must be a CA certificate (basicConstraints)") from None
    if not constraints.value.ca:
        raise InvalidField.of(field, "must be a CA certificate (basicConstraints cA true)")
    return certificate


def registration_policies_to_json(
    policies: Mapping[str, AppkeyRegistrationPolicy],
) -> JsonObject:
    stored: JsonObject = {}
    for name, policy in policies.items():
        values: JsonObject = {
            "keyTypes": [str(key_type) for key_type in policy.key_types],
            "aaids": list(policy.aaids),
            "attestationRootCertificates": list(policy.attestation_root_certificates),
        }
        if policy.attestation is not None:
            values["attestation"] = policy.attestation
        stored[name] = values
    return stored


def authentication_policies_to_json(
    policies: Mapping[str, AppkeyAuthenticationPolicy],
) -> JsonObject:
    stored: JsonObject = {}
    for name, policy in policies.items():
        key_types: list[Any] = [str(key_type) for key_type in policy.key_types]
        stored[name] = {"keyTypes": key_types, "timeoutSeconds": policy.timeout_seconds}
    return stored


def registration_policies_from_json(
    stored: dict[str, dict[str, Any]],
) -> dict[str, AppkeyRegistrationPolicy]:
    return {
        name: AppkeyRegistrationPolicy(
            key_types=_key_types(tuple(values.get("keyTypes", ()))),
            aaids=tuple(values.get("aaids", ())),
            attestation=values.get("attestation"),
            attestation_root_certificates=tuple(values.get("attestationRootCertificates", ())),
        )
        for name, values in stored.items()
    }


def authentication_policies_from_json(
    stored: dict[str, dict[str, Any]],
) -> dict[str, AppkeyAuthenticationPolicy]:
    return {
        name: AppkeyAuthenticationPolicy(
            key_types=_key_types(tuple(values.get("keyTypes", ()))),
            timeout_seconds=int(values.get("timeoutSeconds", 300)),
        )
        for name, values in stored.items()
    }
