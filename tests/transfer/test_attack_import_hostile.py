"""Export files whose HMAC is valid but whose content is hostile.

The importer holds the recipient key, so it can write any file the HMAC accepts. Every such file
must still be refused cleanly (FileRefused naming the field) and write nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from idstore.transfer.import_file import FileRefused, StoreExists
from idstore.transfer.recipient import FileKeys, decode, encode
from tests.support.exports import Exported
from tests.transfer.test_import_appkeys_faces import (  # noqa: F401  (fixtures)
    NOTHING,
    Moving,
    counts,
    moving,
    target,
)
from tests.transfer.test_import_refusals import run_import


def _compact(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def with_user_line(
    exported: Exported,
    change: Callable[[dict[str, Any]], None],
    spell: Callable[[dict[str, Any]], str] = _compact,
) -> list[bytes]:
    """The file with its user line changed by `change`, written as `spell` writes JSON, and the
    end line's HMAC made anew: what anyone holding the recipient key can write."""
    lines = list(exported.lines)
    record = json.loads(lines[2])
    change(record)
    lines[2] = spell(record).encode() + b"\n"
    header = json.loads(lines[0])
    keys = FileKeys.for_identity(exported.identity, decode(header["sealing"]["ephemeralPublicKey"]))
    mac = keys.file_mac()
    for line in lines[:-1]:
        mac.update(line)
    end = json.loads(lines[-1])
    end["mac"] = encode(mac.digest())
    return [*lines[:-1], json.dumps(end, separators=(",", ":")).encode() + b"\n"]


def assert_refused_writing_nothing(url: str, exported: Exported, lines: list[bytes]) -> FileRefused:
    """The import fails as a refusal (FileRefused: exit 1 naming the line), not with whatever the
    driver or the parser raised, and the database holds nothing of the file. The refusal."""
    with pytest.raises(BaseException) as failure:
        run_import(url, exported.identity, lines)

    assert counts(url) == NOTHING
    assert isinstance(failure.value, FileRefused), repr(failure.value)
    return failure.value


def _appkey(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda user: change(user["authenticators"][1])


def _challenge(text: str) -> dict[str, str]:
    return {"challenge": text, "acceptedDtm": "2020-01-01T00:00:00Z"}


def test_a_file_whose_hmac_is_made_anew_unchanged_is_imported(
    moving: Moving,  # noqa: F811
    empty_database: str,
) -> None:
    # The helper itself: a file re-MACed as it stands imports.
    lines = with_user_line(moving.exported, lambda user: None)
    assert run_import(empty_database, moving.exported.identity, lines).users == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_appkey(lambda key: key.update(signCount=2**64)), id="2**64"),
        pytest.param(_appkey(lambda key: key.update(signCount=10**400)), id="10**400"),
        pytest.param(_appkey(lambda key: key.update(signCount=-(2**63) - 1)), id="below bigint"),
        pytest.param(_appkey(lambda key: key.update(deviceName="a\u0000b")), id="NUL"),
        pytest.param(_appkey(lambda key: key.update(deviceName="\ud800")), id="surrogate"),
        pytest.param(lambda user: user.update(externalId="a\u0000b"), id="extId NUL"),
        pytest.param(lambda user: user.update(attributes={"a": "b\u0000"}), id="attribute NUL"),
        pytest.param(_appkey(lambda key: key.update(id="ext")), id="appkey id ext"),
        pytest.param(lambda user: user.update(id="issue"), id="user id issue"),
        pytest.param(
            _appkey(lambda key: key["singleShotChallenges"].append(_challenge("x" * 5000))),
            id="held: challenge too long",
        ),
    ],
)
def test_a_hostile_user_line_with_a_valid_hmac_is_refused_naming_it(
    moving: Moving,  # noqa: F811
    empty_database: str,
    change: Callable[[dict[str, Any]], None],
) -> None:
    lines = with_user_line(moving.exported, change)

    assert_refused_writing_nothing(empty_database, moving.exported, lines)


def test_an_appkey_given_twice_is_refused(
    moving: Moving,  # noqa: F811
    empty_database: str,
) -> None:
    # Held: the repeated ids break a key; refused as ids already here (the wording is loose).
    lines = with_user_line(
        moving.exported, lambda user: user["authenticators"].append(user["authenticators"][1])
    )

    with pytest.raises(StoreExists):
        run_import(empty_database, moving.exported.identity, lines)

    assert counts(empty_database) == NOTHING


@pytest.mark.parametrize(
    "text", [b'{"n":' + b"1" * 5000 + b"}\n", b"[" * 100_000 + b"]" * 100_000 + b"\n"]
)
def test_a_line_python_cannot_parse_is_refused(
    moving: Moving,  # noqa: F811
    empty_database: str,
    text: bytes,
) -> None:
    lines = [*moving.exported.lines[:2], text, *moving.exported.lines[3:]]

    assert_refused_writing_nothing(empty_database, moving.exported, lines)


def test_an_appkey_of_a_relying_party_without_a_configuration_is_kept(
    moving: Moving,  # noqa: F811
    empty_database: str,
) -> None:
    # Not a refusal: deleting a configuration leaves the users' keys of it (usable again once a
    # configuration exists), so an export may hold such keys, and an import keeps them.
    lines = with_user_line(
        moving.exported, _appkey(lambda key: key.update(rpId="not-configured.example"))
    )

    assert run_import(empty_database, moving.exported.identity, lines).users == 1
