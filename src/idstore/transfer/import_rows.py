"""The rows a user line's authenticators become in `idstore import`: a TOTP's secret opened with
the recipient's key and re-sealed with this database's key ring, a passkey or an appkey checked
and kept as it stands (with the single-shot challenges the appkey had accepted), a face's template
opened and re-sealed like a secret. Each kind is refused in a file whose version precedes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.transfer import appkey_records
from idstore.transfer import export_format as fmt
from idstore.transfer.export_format import SecretOwner
from idstore.transfer.face_records import face_row
from idstore.transfer.import_file import FileRefused
from idstore.transfer.passkey_records import passkey_row
from idstore.transfer.recipient import FileKeys, SealedFieldBroken


@dataclass(frozen=True)
class Target:
    """Where the file's store goes, and what the store line told about it."""

    tenant_id: str
    name: str
    store_id: str
    file_store_id: str
    policies: dict[str, tuple[str, str]]  # the file's policy id -> the new one, and its name
    version: int  # the file's format version


@dataclass
class Rows:
    """Rows waiting to be inserted, by table, in the order the foreign keys need."""

    users: list[dict[str, Any]] = field(default_factory=list)
    totps: list[dict[str, Any]] = field(default_factory=list)
    passkeys: list[dict[str, Any]] = field(default_factory=list)
    appkeys: list[dict[str, Any]] = field(default_factory=list)
    challenges: list[dict[str, Any]] = field(default_factory=list)
    faces: list[dict[str, Any]] = field(default_factory=list)
    face_bytes: int = 0  # the sealed templates and images waiting: kept images are large

    def add_face(self, face: dict[str, Any]) -> None:
        self.faces.append(face)
        self.face_bytes += len(face["template_sealed"]) + len(face["image_sealed"] or b"")

    def clear(self) -> None:
        for _, waiting in self.tables():
            waiting.clear()
        self.face_bytes = 0

    def user_handles(self) -> list[dict[str, Any]]:
        """Whose each of the passkeys' user handles is (passkey_user_handles): a user's passkeys
        of one relying party share one; two users with one handle break the table's key."""
        owned = {
            (passkey["store_id"], passkey["rp_id"], passkey["user_handle"], passkey["user_id"])
            for passkey in self.passkeys
        }
        columns = ("store_id", "rp_id", "user_handle", "user_id")
        return [dict(zip(columns, handle, strict=True)) for handle in sorted(owned)]

    def tables(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        return [
            (tables.users, self.users),
            (tables.user_totps, self.totps),
            (tables.user_passkeys, self.passkeys),
            (tables.passkey_user_handles, self.user_handles()),
            (tables.user_appkeys, self.appkeys),
            (tables.appkey_single_shot_challenges, self.challenges),
            (tables.user_biometrics, self.faces),
        ]


@dataclass(frozen=True)
class UserAuthenticators:
    """One user line's authenticators on their way to rows: the file's keys and this database's
    key ring, where the user goes, and the ids to give (the file's, or fresh ones)."""

    keys: FileKeys
    keyring: KeyRing
    target: Target
    ids: Callable[[str], str]
    file_user_id: str

    @property
    def owner(self) -> dict[str, str]:
        return {"store_id": self.target.store_id, "user_id": self.ids(self.file_user_id)}

    @property
    def secret_owner(self) -> SecretOwner:
        return SecretOwner(self.target.version, self.target.file_store_id, self.file_user_id)

    def add(self, authenticators: list[Any], rows: Rows, where: str) -> None:
        """Add each authenticator's rows to `rows`. Raises FileRefused naming where."""
        faces: set[tuple[str, str]] = set()
        for number, authenticator in enumerate(authenticators):
            place = f"{where} authenticator {number}"
            kind = authenticator.get("type") if isinstance(authenticator, dict) else None
            since = _KINDS_SINCE.get(kind) if isinstance(kind, str) else None
            if since is None or self.target.version < since:
                raise FileRefused(f"{place}: a type this idstore version does not import")
            if kind == fmt.TOTP:
                rows.totps.append(self._totp(authenticator, place))
            elif kind == fmt.PASSKEY:
                passkey = checked(passkey_row, authenticator, place)
                rows.passkeys.append({**passkey, **self.owner, "id": self.ids(passkey["id"])})
            elif kind == fmt.APPKEY:
                self._appkey(authenticator, rows, place)
            else:
                face = self._face(authenticator, place)
                if (face["type"], face["subtype"]) in faces:
                    raise FileRefused(f"{place}: the user has a face of this subtype already")
                faces.add((face["type"], face["subtype"]))
                rows.add_face(face)

    def _totp(self, authenticator: dict[str, Any], where: str) -> dict[str, Any]:
        row = checked(fmt.from_json, fmt.TOTP_FIELDS, authenticator, where)
        policies = self.target.policies
        if policies.get(row["policy_id"], ("", ""))[1] != row["policy_name"]:
            raise FileRefused(f"{where}: its policy is not among the store's")
        binding = self.secret_owner.binding("totp.secret", row["id"])
        sealed = authenticator.get("secret")
        try:
            if not isinstance(sealed, dict):
                raise SealedFieldBroken("no sealed secret")
            secret = self.keys.open(str(sealed.get("sealed", "")), binding=binding)
        except SealedFieldBroken:
            raise FileRefused(
                f"{where}: the sealed secret does not open (altered or moved)"
            ) from None
        row.update(self.owner, id=self.ids(row["id"]), policy_id=policies[row["policy_id"]][0])
        row["secret_sealed"] = self.keyring.seal(secret, context=row["id"])
        return row

    def _appkey(self, authenticator: dict[str, Any], rows: Rows, where: str) -> None:
        appkey = checked(appkey_records.appkey_row, authenticator, where)
        challenges = checked(appkey_records.challenge_rows, authenticator, where)
        appkey.update(self.owner, id=self.ids(appkey["id"]))
        rows.appkeys.append(appkey)
        rows.challenges += [
            {**challenge, "store_id": self.target.store_id, "appkey_id": appkey["id"]}
            for challenge in challenges
        ]

    def _face(self, authenticator: dict[str, Any], where: str) -> dict[str, Any]:
        face = checked(
            face_row,
            authenticator,
            where,
            keys=self.keys,
            owner=self.secret_owner,
            keyring=self.keyring,
            new_id=self.ids,
        )
        return {**face, **self.owner}


# The version of the format each authenticator type first stood in.
_KINDS_SINCE = {
    fmt.TOTP: 1,
    fmt.PASSKEY: fmt.PASSKEYS_SINCE,
    fmt.APPKEY: fmt.APPKEYS_AND_FACES_SINCE,
    fmt.FACE: fmt.APPKEYS_AND_FACES_SINCE,
}


_Arguments = ParamSpec("_Arguments")
_Answer = TypeVar("_Answer")


def checked(
    convert: Callable[_Arguments, _Answer],
    *arguments: _Arguments.args,
    **options: _Arguments.kwargs,
) -> _Answer:
    """What `convert` answers, a FormatError turned into FileRefused."""
    try:
        return convert(*arguments, **options)
    except fmt.FormatError as exc:
        raise FileRefused(str(exc)) from None
