"""User appkeys written straight into the server's database, for the tests of listing,
deregistration and preferred devices that do not exercise the UAF registration itself.

A seeded appkey is the row a registration would write: a real P-256 public key (DER
SubjectPublicKeyInfo), the FIDO registry's ECDSA P-256 raw signature algorithm, and a
registration audit of the shape the registration writes.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select

from idstore.db import tables
from tests.support.seeding import Seeder
from tests.support.uaf_keys import spki

ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW = 0x0001


def new_key_id() -> str:
    """A UAF KeyID as the server stores it: base64url, unpadded, of 32 random bytes."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode("ascii")


def seed_appkey(
    seeder: Seeder,
    *,
    store: Mapping[str, Any],
    user: Mapping[str, Any],
    rp_id: str,
    age_seconds: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """Give the user an appkey (`fields` override the row's columns); return the row written.
    `age_seconds` makes it older, so that several seeded keys have a known order."""
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=age_seconds)
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "store_id": store["id"],
        "user_id": user["id"],
        "rp_id": rp_id,
        "aaid": "ABCD#0001",
        "key_id": new_key_id(),
        "key_type": "DEVICE",
        "device_id": "device-1",
        "device_name": "Test phone",
        "status": "ACTIVE",
        "sign_count": 0,
        "public_key": spki(ec.generate_private_key(ec.SECP256R1())),
        "signature_algorithm": ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW,
        "attestation_type": "BASIC_SURROGATE",
        "preferred": False,
        "created_dtm": moment,
        "last_updated_dtm": moment,
        "last_authenticated_with_dtm": None,
        **fields,
    }
    row.setdefault(
        "registration_audit",
        {
            "aaid": row["aaid"],
            "attestationType": row["attestation_type"],
            "facetId": f"https://{rp_id}",
            "deviceId": row["device_id"],
            "deviceName": row["device_name"],
            "authenticatorVersion": 1,
        },
    )
    seeder.execute(insert(tables.user_appkeys).values(row))
    return row


def appkey_rows(seeder: Seeder, user_id: str) -> list[dict[str, Any]]:
    """The user's appkey rows as the database holds them, oldest first."""
    appkeys = tables.user_appkeys
    return seeder.rows(
        select(appkeys).where(appkeys.c.user_id == user_id).order_by(appkeys.c.created_dtm)
    )
