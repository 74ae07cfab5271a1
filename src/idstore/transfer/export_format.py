"""The idstore export format, version 3: which fields each record has, and their JSON forms.

A file is JSON Lines: a header, the store (configuration, TOTP policies, from version 2 the
passkey configurations, from version 3 the appkey configurations), one line per user with the
user's authenticators (TOTPs; from version 2 passkeys; from version 3 appkeys and faces), and an
end line with the counts and an HMAC over every byte before it. Version 1 and 2 files are still
read. The writer and the reader both go through the field lists here, so what is written is
what is read back; docs/moving-on.md documents them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Integer, LargeBinary, String

from idstore.db import tables
from idstore.db.types import UtcDateTime
from idstore.otp import Algorithm
from idstore.services.face_models import BiometricStatus, BiometricSubtype, BiometricType
from idstore.services.models import (
    AppkeyStatus,
    AppkeyType,
    LockKind,
    PasskeyStatus,
    SessionManagement,
    TotpStatus,
    UserStatus,
)
from idstore.storable import check_json, check_text
from idstore.transfer.recipient import decode, encode

FORMAT = "idstore-export"
VERSION = 3  # what this idstore writes
# Version 1: no passkey configurations, no passkeys; version 2: no appkeys, no faces.
READABLE_VERSIONS = (1, 2, 3)
PASSKEYS_SINCE = 2
APPKEYS_AND_FACES_SINCE = 3
TOTP = "TOTP"
# The modalities' names, as the audit spells them.
PASSKEY = "Passkey"
APPKEY = "Appkey"
FACE = "Face"


class FormatError(ValueError):
    """A record does not follow the format: a field missing, of the wrong type or out of range.
    The message names the field, never its value."""


@dataclass(frozen=True)
class Field:
    """One JSON field of a record and the column it comes from and goes to."""

    name: str
    column: Column[Any]
    choices: type[StrEnum] | None = None


def _fields(table: Any, columns: str, **choices: type[StrEnum]) -> tuple[Field, ...]:
    """The fields of a record: each column under its name in camelCase, as the API spells it."""
    return tuple(
        Field(_camel(column), table.c[column], choices.get(column)) for column in columns.split()
    )


def _camel(column: str) -> str:
    first, *rest = column.split("_")
    return first + "".join(word.capitalize() for word in rest)


STORE_FIELDS = _fields(
    tables.stores, "id tenant_id name description configuration created_dtm last_updated_dtm"
)

POLICY_FIELDS = _fields(
    tables.totp_policies,
    "id name description algorithm digits period issuer drift_steps secret_length "
    "registration_timeout_seconds allow_secret_retrieval created_dtm last_updated_dtm",
    algorithm=Algorithm,
)

USER_FIELDS = _fields(
    tables.users,
    "id external_id status type locale timezone first_name last_name email date_of_birth "
    "nationalities attributes created_dtm last_updated_dtm last_successful_authentication_dtm",
    status=UserStatus,
)

# The user's lock state as the locking rules keep it (spec §6), under "locks".
LOCK_FIELDS = _fields(
    tables.users,
    "failed_attempts lock_count temp_lock_streak lock_kind locked_dtm unlock_dtm modality_locks",
    lock_kind=LockKind,
)

# A TOTP authenticator besides its `type` and its sealed `secret`.
TOTP_FIELDS = _fields(
    tables.user_totps,
    "id policy_id policy_name status issuer username algorithm digits period last_used_step "
    "created_dtm last_updated_dtm activated_dtm expiration_dtm last_authenticated_with_dtm",
    status=TotpStatus,
    algorithm=Algorithm,
)


# A relying party's passkey configuration (version 2), in the store record's "passkeyConfigs".
PASSKEY_CONFIG_FIELDS = _fields(
    tables.passkey_configs,
    "id rp_id rp_name restricted_origins session_management registration_policies "
    "authentication_policies created_dtm last_updated_dtm",
    session_management=SessionManagement,
)

# A passkey (version 2) besides its `type`. Its public key is not secret: it stands in clear.
PASSKEY_FIELDS = _fields(
    tables.user_passkeys,
    "id rp_id credential_id public_key algorithm status sign_count aaguid transports "
    "backup_eligible backup_state user_handle registration_audit created_dtm last_updated_dtm "
    "last_authenticated_with_dtm",
    status=PasskeyStatus,
)

# A relying party's appkey configuration (version 3), in the store record's "appkeyConfigs".
APPKEY_CONFIG_FIELDS = _fields(
    tables.appkey_configs,
    "id rp_id trusted_facets session_management single_shot_window_seconds "
    "registration_policies authentication_policies created_dtm last_updated_dtm",
    session_management=SessionManagement,
)

# An appkey (version 3) besides its `type` and the single-shot challenges it had accepted. Its
# public key (DER SubjectPublicKeyInfo) is not secret: it stands in clear, as a passkey's does.
APPKEY_FIELDS = _fields(
    tables.user_appkeys,
    "id rp_id aaid key_id key_type device_id device_name status sign_count public_key "
    "signature_algorithm attestation_type registration_audit preferred created_dtm "
    "last_updated_dtm last_authenticated_with_dtm",
    key_type=AppkeyType,
    status=AppkeyStatus,
)

# A single-shot challenge an appkey had accepted, in the appkey's "singleShotChallenges".
SINGLE_SHOT_FIELDS = _fields(tables.appkey_single_shot_challenges, "challenge accepted_dtm")

# A face (version 3) besides its `type` (Face; the table's own `type`, FACE, is `biometricType`)
# and its sealed `template` and `image`.
FACE_FIELDS = (
    *_fields(tables.user_biometrics, "id"),
    Field("biometricType", tables.user_biometrics.c.type, BiometricType),
    *_fields(
        tables.user_biometrics,
        "subtype status quality model model_version created_dtm last_updated_dtm",
        subtype=BiometricSubtype,
        status=BiometricStatus,
    ),
)


def secret_binding(
    kind: str, *, version: int, store_id: str, user_id: str, authenticator_id: str
) -> str:
    """The associated data of one sealed secret: the format and version of the file it stands
    in, what it is and whose it is."""
    return f"{FORMAT}/{version}|{kind}|{store_id}|{user_id}|{authenticator_id}"


@dataclass(frozen=True)
class SecretOwner:
    """Whose the sealed secrets of one user line are, as the file names them: its version, the
    store's and the user's ids in the file."""

    version: int
    store_id: str
    user_id: str

    def binding(self, kind: str, authenticator_id: str) -> str:
        return secret_binding(
            kind,
            version=self.version,
            store_id=self.store_id,
            user_id=self.user_id,
            authenticator_id=authenticator_id,
        )


class SecretUnreadable(Exception):
    """A secret of the store does not open with this server's key ring: nothing is exported."""


def to_json(fields: Sequence[Field], row: Mapping[Any, Any]) -> dict[str, Any]:
    """A database row's fields in their JSON form (instants in ISO 8601 UTC, dates as dates)."""
    return {item.name: _json_value(row[item.column.name]) for item in fields}


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return encode(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_json(fields: Sequence[Field], record: Any, where: str) -> dict[str, Any]:
    """The column values of a record, every field checked against its column.

    Raises FormatError naming `where` and the field.
    """
    if not isinstance(record, Mapping):
        raise FormatError(f"{where} is not a JSON object")
    values = {}
    for item in fields:
        if item.name not in record:
            raise FormatError(f"{where}: field {item.name!r} is missing")
        try:
            values[item.column.name] = _column_value(item, record[item.name])
        except (TypeError, ValueError) as exc:
            raise FormatError(f"{where}: field {item.name!r}: {exc}") from None
    return values


def _column_value(item: Field, value: Any) -> Any:
    column = item.column
    if value is None:
        if not column.nullable:
            raise ValueError("may not be null")
        return None
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return _instant(value)
    if isinstance(kind, Date):
        return _date(value)
    if isinstance(kind, Boolean):
        return _typed(value, bool)
    if isinstance(kind, Integer):  # BigInteger included
        return _in_range(_typed(value, int), _BIG if isinstance(kind, BigInteger) else _SMALL)
    if isinstance(kind, Float):
        return float(_typed(value, (int, float)))
    if isinstance(kind, String):
        return _string(item, value)
    if isinstance(kind, LargeBinary):
        return _binary(value)
    # JSON columns: any JSON value a column holds as it is (the reader checks the shapes it
    # relies on).
    return check_json(value)


# The ranges of PostgreSQL's integer and bigint, which every database here can hold.
_SMALL = range(-(2**31), 2**31)
_BIG = range(-(2**63), 2**63)


def _in_range(value: int, bounds: range) -> int:
    if value not in bounds:
        raise ValueError(f"is outside {bounds.start}..{bounds.stop - 1}")
    return value


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError("has the wrong type")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("is not a string")
    return value


def _string(item: Field, value: Any) -> str:
    text = check_text(_text(value))  # what the API refuses: NUL, unpaired surrogates
    length = getattr(item.column.type, "length", None)
    if length is not None and len(text) > length:
        raise ValueError(f"is longer than {length} characters")
    if item.choices is not None and text not in {choice.value for choice in item.choices}:
        raise ValueError("is not one of the values this version knows")
    return text


def _binary(value: Any) -> bytes:
    try:
        return decode(_text(value))
    except ValueError:
        raise ValueError("is not base64url") from None


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        raise ValueError("is not an ISO 8601 date") from None  # its message holds the value


def _instant(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value))
    except ValueError:
        raise ValueError("is not an ISO 8601 instant") from None  # its message holds the value
    if moment.tzinfo is None:
        raise ValueError("has no time zone")
    return moment.astimezone(UTC)
