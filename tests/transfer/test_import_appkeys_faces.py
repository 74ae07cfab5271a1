"""Moving appkeys and faces (format version 3): a user with a TOTP, an appkey and a face, made over
HTTP on the session's server, is exported by the real writer, imported by the real reader into a
fresh database sealed with another key ring, and signs in with the same app and face on a server
of that database. A malformed appkey or face section is refused naming where, writing nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from idstore.db import tables
from idstore.transfer import import_reader
from idstore.transfer.export_format import SecretUnreadable
from idstore.transfer.import_file import FileRefused
from idstore.transfer.import_reader import ImportOptions
from idstore.transfer.recipient import Identity, encode
from tests.support.api import Api, issue_token
from tests.support.appkey_ceremonies import RP_ID, AppkeyStore
from tests.support.checks import json_of
from tests.support.exports import Exported, write_export
from tests.support.face_api import enrolled_user, latest_record, match
from tests.support.portraits import hopper_variants
from tests.support.seeding import Seeder
from tests.support.server import LiveServer, running_server
from tests.support.totp_users import totp_user
from tests.support.uaf_authenticator import SoftwareUafAuthenticator
from tests.transfer.test_import_refusals import TARGET_KEYRING, query, run_import

MOVED_TABLES = (
    tables.stores,
    tables.users,
    tables.user_totps,
    tables.appkey_configs,
    tables.user_appkeys,
    tables.appkey_single_shot_challenges,
    tables.user_biometrics,
)
NOTHING = [0] * len(MOVED_TABLES)


@dataclass(frozen=True)
class Moving:
    """The exported file, and the source's app, appkey and what the API showed before export."""

    exported: Exported
    rp: AppkeyStore
    authenticator: SoftwareUafAuthenticator
    appkey: dict[str, Any]
    single_shot_at: datetime
    before: dict[str, Any]


def views(rp: AppkeyStore, user: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of the relying party, the user (faces and locks in it) and its appkeys."""
    client = rp.api.client
    appkeys = json_of(client.get(rp.api.user_url(rp.store, user, "appkeys")), 200)
    return {
        "config": json_of(client.get(f"{rp.api.store_url(rp.store)}/appkeyConfig/{RP_ID}"), 200),
        "user": rp.api.get_user(rp.store, user),
        "appkeys": appkeys,
        "each": [rp.appkey(user, item["id"]) for item in appkeys["content"]],
    }


@pytest.fixture
def moving(api: Api, seeder: Seeder, server: LiveServer, database_url: str) -> Moving:
    """A store with a TOTP policy and an appkey configuration; its user holds a TOTP, an appkey
    that signed in twice (once single-shot) and a face that matched once; exported."""
    owner = totp_user(api, seeder, firstName="Ada")
    rp = AppkeyStore.create(api, store=owner.store_name, singleShotWindowSeconds=600)
    authenticator = SoftwareUafAuthenticator()
    appkey = rp.registered(owner.user, authenticator)
    assert rp.sign_in(authenticator, user=owner.user).status_code == 200  # signCount 1
    single_shot_at = datetime.now(UTC)
    assert rp.single_shot(authenticator, single_shot_at).status_code == 200  # signCount 2
    enrolled_user(api, owner.store_name, owner.user)
    assert match(api, owner.store_name, owner.user, hopper_variants()["brightened"]).is_success
    before = views(rp, owner.user)
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, owner.store_name, identity)
    exported = Exported(written.splitlines(keepends=True), identity, owner)
    return Moving(exported, rp, authenticator, appkey, single_shot_at, before)


@pytest.fixture
def target(empty_database: str, tmp_path: Path) -> Iterator[Callable[[], LiveServer]]:
    """A server on the fresh database with the importing key ring, started once imported."""
    started: list[Any] = []

    def start() -> LiveServer:
        context = running_server(empty_database, tmp_path / "target", keyring=TARGET_KEYRING)
        started.append(context)
        return context.__enter__()

    yield start
    for context in started:
        context.__exit__(None, None, None)


def counts(url: str) -> list[int]:
    return [query(url, select(func.count()).select_from(table))[0][0] for table in MOVED_TABLES]


def authenticator_of(user_line: bytes, kind: str) -> dict[str, Any]:
    authenticators: list[dict[str, Any]] = json.loads(user_line)["authenticators"]
    (found,) = [item for item in authenticators if item["type"] == kind]
    return found


def test_an_appkey_and_a_face_sign_in_at_the_importing_server(
    moving: Moving, empty_database: str, target: Callable[[], LiveServer]
) -> None:
    exported, owner = moving.exported, moving.exported.owner

    summary = run_import(empty_database, exported.identity, exported.lines)

    assert (summary.users, summary.authenticators) == (1, 3)
    assert counts(empty_database) == [1, 1, 1, 1, 1, 1, 1]
    server = target()
    headers = {"Authorization": f"Bearer {issue_token(server.base_url, server.api_key)}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        api = Api(client)
        rp = AppkeyStore(api, owner.store_name, RP_ID, moving.rp.config)
        assert views(rp, owner.user) == moving.before
        appkey = moving.before["each"][0]
        assert (appkey["id"], appkey["signCount"], appkey["status"]) == (
            moving.appkey["id"],
            2,
            "ACTIVE",
        )
        (face,) = moving.before["user"]["summaryInfo"]["biometrics"]
        assert face["status"] == "ACTIVE"

        signed_in = json_of(rp.sign_in(moving.authenticator, user=owner.user), 200)
        matched = match(api, owner.store_name, owner.user, hopper_variants()["greyscale"])

        assert (signed_in["appkey"]["id"], signed_in["appkey"]["signCount"]) == (appkey["id"], 3)
        assert rp.last_audit(owner.user)["result"] == "SUCCESS"
        assert matched.status_code == 200, matched.text
        record = latest_record(api, owner.store_name, owner.user)
        assert (record["type"], record["result"]) == ("Face", "SUCCESS")
        assert record["faceInfo"]["biometricId"] == face["id"]
        # The single-shot time the key had used at the source is used at the target too.
        again = rp.single_shot(moving.authenticator, moving.single_shot_at)
        assert (again.status_code, again.json()["code"]) == (400, 1090)


def test_the_face_template_is_resealed_with_the_importing_key_ring(
    moving: Moving, empty_database: str, seeder: Seeder
) -> None:
    run_import(empty_database, moving.exported.identity, moving.exported.lines)

    biometrics = tables.user_biometrics
    (imported,) = query(empty_database, select(biometrics))
    (original,) = seeder.rows(select(biometrics).where(biometrics.c.id == imported.id))
    assert imported.template_sealed != original["template_sealed"]
    opened = TARGET_KEYRING.open(imported.template_sealed, context=imported.id)
    assert opened == seeder.keyring.open(original["template_sealed"], context=original["id"])
    text = b"".join(moving.exported.lines)
    assert encode(opened).encode() not in text
    assert encode(original["template_sealed"]).encode() not in text


def test_kept_images_move_sealed_like_the_templates_in_batches_of_a_bounded_size(
    api: Api,
    seeder: Seeder,
    server: LiveServer,
    database_url: str,
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = api.create_store(configuration={"faceRetainImages": True})["name"]
    for _ in range(2):
        enrolled_user(api, store, api.create_user(store))
    identity = Identity.generate()
    lines = write_export(database_url, server.keyring, store, identity).splitlines(keepends=True)
    monkeypatch.setattr(import_reader, "BATCH_FACE_BYTES", 1)  # a batch a user

    run_import(empty_database, identity, lines)

    biometrics = tables.user_biometrics
    imported = query(empty_database, select(biometrics).order_by(biometrics.c.id))
    originals = seeder.rows(
        select(biometrics)
        .where(biometrics.c.id.in_([face.id for face in imported]))
        .order_by(biometrics.c.id)
    )
    assert len(imported) == len(originals) == 2
    for face, original in zip(imported, originals, strict=True):
        image = TARGET_KEYRING.open(face.image_sealed, context=face.id)
        assert image == seeder.keyring.open(original["image_sealed"], context=original["id"])
    assert authenticator_of(lines[2], "Face")["image"]["sealed"]


def test_a_face_that_does_not_open_with_the_key_ring_stops_the_export_naming_it(
    api: Api, database_url: str
) -> None:
    store = api.create_store()["name"]
    user = enrolled_user(api, store, api.create_user(store))
    (face,) = user["summaryInfo"]["biometrics"]

    with pytest.raises(SecretUnreadable) as refusal:
        write_export(database_url, TARGET_KEYRING, store, Identity.generate())

    assert str(refusal.value) == (
        f"the template or image of face {face['id']} does not open with this server's key ring"
    )


def test_a_copy_with_new_ids_reseals_the_face_and_keeps_the_appkeys_challenges(
    moving: Moving, empty_database: str
) -> None:
    exported = moving.exported
    run_import(empty_database, exported.identity, exported.lines)

    copy = run_import(
        empty_database,
        exported.identity,
        exported.lines,
        ImportOptions(store_name="copy", new_ids=True),
    )

    assert counts(empty_database) == [2, 2, 2, 2, 2, 2, 2]
    appkeys, faces = tables.user_appkeys, tables.user_biometrics
    challenges = tables.appkey_single_shot_challenges
    (appkey,) = query(empty_database, select(appkeys).where(appkeys.c.store_id == copy.store_id))
    (face,) = query(empty_database, select(faces).where(faces.c.store_id == copy.store_id))
    assert moving.appkey["id"] != appkey.id
    assert face.id != authenticator_of(exported.lines[2], "Face")["id"]
    assert len(TARGET_KEYRING.open(face.template_sealed, context=face.id)) == 513
    moved = query(empty_database, select(challenges).where(challenges.c.store_id == copy.store_id))
    assert [row.appkey_id for row in moved] == [appkey.id]


def refused(url: str, exported: Exported, line: int, change: Callable[[bytes], bytes]) -> str:
    """Import the file with one line changed; check nothing was written; the refusal."""
    lines = list(exported.lines)
    lines[line] = change(lines[line])
    assert lines[line] != exported.lines[line]
    with pytest.raises(FileRefused) as refusal:
        run_import(url, exported.identity, lines)
    assert counts(url) == NOTHING
    return str(refusal.value)


def replaced(old: str, new: str) -> Callable[[bytes], bytes]:
    return lambda line: line.replace(old.encode(), new.encode())


def test_an_appkey_public_key_that_is_no_key_of_its_algorithm_is_refused(
    moving: Moving, empty_database: str
) -> None:
    # A well-formed DER key, of another algorithm than the one the appkey signs with.
    ed25519 = Ed25519PrivateKey.generate().public_key()
    other = encode(ed25519.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    original = authenticator_of(moving.exported.lines[2], "Appkey")["publicKey"]

    message = refused(empty_database, moving.exported, 2, replaced(original, other))

    assert message == (
        "line 3 authenticator 1: field 'publicKey' is not a DER public key of its "
        "'signatureAlgorithm'"
    )


def test_an_altered_face_template_is_refused_naming_it(moving: Moving, empty_database: str) -> None:
    sealed = authenticator_of(moving.exported.lines[2], "Face")["template"]["sealed"]
    flipped = sealed[:30] + ("A" if sealed[30] != "A" else "B") + sealed[31:]

    message = refused(empty_database, moving.exported, 2, replaced(sealed, flipped))

    assert message == "line 3 authenticator 2: the sealed template does not open (altered or moved)"


def test_a_lowered_appkey_sign_count_is_refused_by_the_files_hmac(
    moving: Moving, empty_database: str
) -> None:
    message = refused(
        empty_database, moving.exported, 2, replaced('"signCount":2,', '"signCount":0,')
    )

    assert message == "the file was altered: its HMAC does not match its contents"


def rewritten(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    """A line's record, changed by `change` (the HMAC is not reached: the record is refused)."""

    def rewrite(line: bytes) -> bytes:
        record = json.loads(line)
        change(record)
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"

    return rewrite


def _config(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda store: change(store["appkeyConfigs"][0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda store: store.update(appkeyConfigs={"rpId": RP_ID}),
            "line 2: field 'appkeyConfigs' is not a list",
        ),
        (
            _config(lambda config: config.pop("trustedFacets")),
            "line 2 appkey configuration 0: field 'trustedFacets' is missing",
        ),
        (
            _config(lambda config: config.update(singleShotWindowSeconds=0)),
            "line 2 appkey configuration 0: field 'singleShotWindowSeconds' is not from 1 to 3600",
        ),
        (
            _config(lambda config: config.update(rpId="Example.COM")),
            "line 2 appkey configuration 0: rpId: must be a lower-case domain name",
        ),
        (
            _config(lambda config: config.update(sessionManagement="SOMETIMES")),
            "line 2 appkey configuration 0: field 'sessionManagement': is not one of the values "
            "this version knows",
        ),
        (
            _config(lambda config: config["registrationPolicies"].update(default=["x"])),
            "line 2 appkey configuration 0: field 'registrationPolicies' is not a map of policies",
        ),
        (
            _config(
                lambda config: config["registrationPolicies"]["default"].update(attestation="ANY")
            ),
            "line 2 appkey configuration 0: registrationPolicies.default.attestation is not one "
            "idstore reads",
        ),
        (
            _config(
                lambda config: config["authenticationPolicies"]["default"].update(timeoutSeconds=5)
            ),
            "line 2 appkey configuration 0: an authentication policy's timeoutSeconds is out of "
            "range",
        ),
    ],
)
def test_a_malformed_appkey_configuration_is_refused_naming_it(
    moving: Moving,
    empty_database: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    assert refused(empty_database, moving.exported, 1, rewritten(change)) == message


def _appkey(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda user: change(user["authenticators"][1])


def _face(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda user: change(user["authenticators"][2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _appkey(lambda appkey: appkey.update(signCount=-1)),
            "line 3 authenticator 1: field 'signCount' is negative",
        ),
        (
            _appkey(lambda appkey: appkey.update(aaid="nope")),
            "line 3 authenticator 1: field 'aaid' is not an AAID (XXXX#XXXX in hex)",
        ),
        (
            _appkey(lambda appkey: appkey.update(signatureAlgorithm=99)),
            "line 3 authenticator 1: field 'publicKey' is not a DER public key of its "
            "'signatureAlgorithm'",
        ),
        (
            _appkey(lambda appkey: appkey.update(singleShotChallenges="none")),
            "line 3 authenticator 1: field 'singleShotChallenges' is not a list",
        ),
        (
            _appkey(lambda appkey: appkey["singleShotChallenges"][0].update(acceptedDtm="soon")),
            "line 3 authenticator 1 single-shot challenge 0: field 'acceptedDtm': is not an "
            "ISO 8601 instant",
        ),
        (
            _face(lambda face: face.pop("template")),
            "line 3 authenticator 2: field 'template' is missing",
        ),
        (
            _face(lambda face: face.update(biometricType="IRIS")),
            "line 3 authenticator 2: field 'biometricType': is not one of the values this "
            "version knows",
        ),
        (
            _face(lambda face: face.update(quality="high")),
            "line 3 authenticator 2: field 'quality': has the wrong type",
        ),
        (
            # Sealed for another face: the binding names the face, so it does not open here.
            _face(lambda face: face.update(id="0" * 36)),
            "line 3 authenticator 2: the sealed template does not open (altered or moved)",
        ),
        (
            lambda user: user["authenticators"].append(user["authenticators"][2]),
            "line 3 authenticator 3: the user has a face of this subtype already",
        ),
    ],
)
def test_a_malformed_appkey_or_face_is_refused_naming_it(
    moving: Moving,
    empty_database: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    assert refused(empty_database, moving.exported, 2, rewritten(change)) == message


def test_appkeys_and_faces_in_a_file_that_says_version_2_are_refused(
    moving: Moving, empty_database: str
) -> None:
    message = refused(empty_database, moving.exported, 0, replaced('"version":3', '"version":2'))

    assert message == "line 2: field 'appkeyConfigs' is not in version 2"
