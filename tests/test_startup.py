"""Starting up: migrations, the first API key, and a production start that refuses unsafe setups."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from idstore.crypto.keyring import KeyRing, load_or_create_key_file
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import api_keys, stores, totp_registrations, users
from idstore.services.context import Context, UserRef
from idstore.services.policies import PolicyChanges
from idstore.services.stores import StoreChanges
from idstore.services.users import UserChanges
from idstore.settings import Settings
from idstore.startup import UnsafeStart, prepare
from tests.support.clock import ManualClock
from tests.support.databases import async_url, drop_database, fresh_database_url
from tests.support.processes import idstore_command


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    url = fresh_database_url(tmp_path / "db")
    yield url
    drop_database(url)


def _settings(tmp_path: Path, database_url: str, **fields: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, **fields)


def _problems(settings: Settings) -> list[str]:
    with pytest.raises(UnsafeStart) as refusal:
        asyncio.run(prepare(settings))
    return refusal.value.problems


def test_a_development_start_makes_the_first_key_once(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url)
    settings.data_dir.mkdir()

    first = asyncio.run(prepare(settings))
    second = asyncio.run(prepare(settings))

    assert first.bootstrap_api_key is not None and first.bootstrap_api_key.startswith("idsk_")
    assert second.bootstrap_api_key is None


def test_production_refuses_to_start_without_a_key_ring(tmp_path: Path, database_url: str) -> None:
    problems = _problems(_settings(tmp_path, database_url, env="production"))
    assert len(problems) == 1 and "no key ring" in problems[0]
    assert not (tmp_path / "data" / "keyring").exists()


def test_production_refuses_a_key_file_others_can_read(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url, env="production")
    load_or_create_key_file(settings.resolved_key_file)
    os.chmod(settings.resolved_key_file, 0o640)

    problems = _problems(settings)

    assert len(problems) == 1 and "readable by others (mode 640)" in problems[0]


def test_production_refuses_an_empty_database_and_the_bootstrap_key(
    tmp_path: Path, database_url: str
) -> None:
    development = _settings(tmp_path, database_url)
    development.data_dir.mkdir()
    production = _settings(tmp_path, database_url, env="production")
    assert "no API key" in _problems_after_migration(production)[0]

    asyncio.run(prepare(development))  # makes the bootstrap key
    assert "bootstrap API key still exists" in _problems(production)[0]

    asyncio.run(_replace_bootstrap_key(development))
    assert asyncio.run(prepare(production)).bootstrap_api_key is None


def _problems_after_migration(settings: Settings) -> list[str]:
    load_or_create_key_file(settings.resolved_key_file)
    return _problems(settings)


async def _replace_bootstrap_key(settings: Settings, status: str = "DELETED") -> None:
    database = Database(async_url(settings.database_url))
    try:
        async with database.transaction() as conn:
            await api_keys.create_api_key(
                conn,
                load_or_create_key_file(settings.resolved_key_file),
                tenant_id="default",
                permissions=("TNT#default#IdentityStore:*",),
                now=ManualClock().now(),
            )
            await conn.execute(
                update(tables.api_keys)
                .where(tables.api_keys.c.is_bootstrap.is_(True))
                .values(status=status)
            )
    finally:
        await database.dispose()


def test_serve_says_why_it_refuses_and_exits_1(tmp_path: Path, database_url: str) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "IDSTORE_ENV": "production",
        "IDSTORE_DATA_DIR": str(tmp_path / "data"),
        "IDSTORE_DATABASE_URL": database_url,
    }
    result = subprocess.run(
        [str(idstore_command()), "serve", "--port", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "refusing to start: no key ring" in result.stderr


def test_serve_refuses_a_port_in_use_before_it_says_it_serves(
    tmp_path: Path, database_url: str
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = subprocess.run(
            [str(idstore_command()), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={
                "PATH": "/usr/bin:/bin",
                "IDSTORE_DATA_DIR": str(tmp_path / "data"),
                "IDSTORE_DATABASE_URL": database_url,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"refusing to start: 127.0.0.1:{port} is in use" in result.stderr
    assert "IDSTORE_PORT" in result.stderr
    assert "serving on" not in result.stdout
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_a_server_with_another_key_ring_refuses_to_start_on_a_used_database(
    tmp_path: Path, database_url: str
) -> None:
    first = _settings(tmp_path, database_url)
    first.data_dir.mkdir()
    asyncio.run(prepare(first))
    other = Settings(data_dir=tmp_path / "elsewhere", database_url=database_url)
    other.data_dir.mkdir()

    problems = _problems(other)

    assert len(problems) == 1 and "give every server the same key ring" in problems[0]
    assert asyncio.run(prepare(first)).bootstrap_api_key is None  # the first one still starts


@pytest.mark.parametrize(
    ("url", "says", "status"),
    [
        ("postgresql://postgres@127.0.0.1:1/none", "cannot reach the database", 2),
        ("mysql://root@127.0.0.1/none", "not a database idstore supports", 1),
        ("not a url", "not a database idstore supports", 1),
    ],
)
def test_serve_names_a_database_it_cannot_use_in_one_line(
    tmp_path: Path, url: str, says: str, status: int
) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "IDSTORE_DATA_DIR": str(tmp_path / "data"),
        "IDSTORE_DATABASE_URL": url,
    }
    result = subprocess.run(
        [str(idstore_command()), "serve", "--port", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == status
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_a_misspelt_environment_is_refused_not_taken_for_development() -> None:
    with pytest.raises(ValueError, match="IDSTORE_ENV must be one of development, production"):
        Settings.from_env({"IDSTORE_ENV": "Production"})


def test_production_refuses_a_key_a_person_typed(tmp_path: Path, database_url: str) -> None:
    zeros = "k1:" + base64.b64encode(bytes(32)).decode()
    problems = _problems(_settings(tmp_path, database_url, env="production", secret_keys=zeros))
    assert problems == [
        "key k1 is not random (a single byte repeated): make one with 32 random bytes"
    ]


def test_production_refuses_a_blocked_bootstrap_key(tmp_path: Path, database_url: str) -> None:
    development = _settings(tmp_path, database_url)
    development.data_dir.mkdir()
    asyncio.run(prepare(development))
    asyncio.run(_replace_bootstrap_key(development, status="BLOCKED"))

    problems = _problems(_settings(tmp_path, database_url, env="production"))

    assert "bootstrap API key still exists" in problems[0]


async def _seal_one_secret(settings: Settings, ring: KeyRing) -> None:
    database = Database(async_url(settings.database_url))
    ctx = Context("default", "test", "test", ManualClock().now())
    policies = {"p": PolicyChanges({})}
    try:
        await stores.create_store(
            database, ctx, name="s", changes=StoreChanges(totp_policies=policies)
        )
        user = await users.create_user(
            database, ctx, store_name="s", changes=UserChanges({"external_id": "u"})
        )
        await totp_registrations.start_registration(
            database,
            ring,
            ctx,
            store_name="s",
            ref=UserRef.by_id(user.id),
            policy_name="p",
            username=None,
        )
    finally:
        await database.dispose()


def test_a_ring_with_the_right_key_ids_but_other_keys_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    first = _settings(tmp_path, database_url)
    first.data_dir.mkdir()
    asyncio.run(prepare(first))
    ring = load_or_create_key_file(first.resolved_key_file)
    asyncio.run(_seal_one_secret(first, ring))
    ((key_id, _),) = ring.keys
    impostor = f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"

    problems = _problems(
        Settings(data_dir=tmp_path / "x", database_url=database_url, secret_keys=impostor)
    )

    assert "give every server the same key ring" in problems[0]


def test_the_embedded_database_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o755)
    settings = Settings(data_dir=data_dir, database_url="")
    previous = os.umask(0o022)
    try:
        asyncio.run(prepare(settings))
    finally:
        os.umask(previous)

    database_file = data_dir / "idstore.db"
    assert database_file.stat().st_mode & 0o777 == 0o600
    assert database_file.stat().st_size > 0  # the migrated database, not just the empty file
