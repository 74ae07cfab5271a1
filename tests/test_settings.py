"""Settings come from IDSTORE_* variables, and the configuration reference stays current."""

from __future__ import annotations

from pathlib import Path

import pytest

from idstore.settings import Settings, reference_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_field_is_read_from_its_environment_variable() -> None:
    settings = Settings.from_env(
        {
            "IDSTORE_PORT": "9000",
            "IDSTORE_WORKERS": "4",
            "IDSTORE_DATA_DIR": "/var/lib/idstore",
            "IDSTORE_DATABASE_URL": "postgresql://u@db/idstore",
            "IDSTORE_TOKEN_TTL_SECONDS": "60",
        }
    )

    assert (settings.port, settings.workers, settings.token_ttl_seconds) == (9000, 4, 60)
    assert settings.data_dir == Path("/var/lib/idstore")
    assert settings.resolved_database_url == "postgresql+asyncpg://u@db/idstore"


def test_flags_override_the_environment() -> None:
    settings = Settings.from_env({"IDSTORE_PORT": "9000"}, port=9100, host=None)
    assert (settings.port, settings.host) == (9100, "127.0.0.1")


def test_the_default_database_is_sqlite_under_the_data_directory() -> None:
    settings = Settings.from_env({"IDSTORE_DATA_DIR": "/srv/data"})
    assert settings.resolved_database_url == "sqlite+aiosqlite:////srv/data/idstore.db"
    assert settings.resolved_key_file == Path("/srv/data/keyring")


def test_a_malformed_number_names_its_variable() -> None:
    with pytest.raises(ValueError, match="IDSTORE_PORT must be an integer"):
        Settings.from_env({"IDSTORE_PORT": "eighty"})


def test_the_configuration_reference_in_docs_is_current() -> None:
    # Regenerate with: .venv/bin/idstore config-reference > docs/configuration.md
    assert DOCS.read_text() == reference_markdown()
