"""One settings object, read from IDSTORE_* environment variables (and `idstore serve` flags)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class Settings:
    """How this process runs. Every field has an `IDSTORE_<FIELD>` environment variable."""

    env: str = field(
        default="development",
        metadata=_help("Deployment environment: `development` or `production`."),
    )
    host: str = field(default="127.0.0.1", metadata=_help("Address the HTTP server listens on."))
    port: int = field(default=8080, metadata=_help("Port the HTTP server listens on."))
    workers: int = field(
        default=1, metadata=_help("Server processes sharing the port (use PostgreSQL above 1).")
    )
    data_dir: Path = field(
        default=Path("data"),
        metadata=_help("Directory for the embedded database, the key file and the bootstrap key."),
    )
    database_url: str = field(
        default="",
        metadata=_help(
            "SQLAlchemy URL of the database; empty means the SQLite file `<data_dir>/idstore.db`. "
            "`postgresql://user@host/db` selects PostgreSQL (asyncpg); add "
            "`?prepared_statements=false` behind a pooler in transaction mode (PgBouncer)."
        ),
    )
    database_pool_size: int = field(
        default=32,
        metadata=_help(
            "Connections each process keeps open to PostgreSQL, and never more: a request that "
            "finds them all busy waits for one (up to 10 s, then 503 / 9010)."
        ),
    )
    database_statement_timeout_seconds: float = field(
        default=10.0,
        metadata=_help(
            "How long one statement of a request may wait for PostgreSQL before the request "
            "answers 503 (9010), so that a hung database does not hold requests (0: no limit)."
        ),
    )
    secret_keys: str = field(
        default="",
        metadata=_help(
            "Key ring sealing secrets at rest: `id:base64key,...` (32-byte keys, the first seals). "
            "Empty means the key file."
        ),
    )
    key_file: Path | None = field(
        default=None,
        metadata=_help(
            "Key ring file (mode 0600); default `<data_dir>/keyring`, created on first start."
        ),
    )
    token_ttl_seconds: int = field(
        default=900, metadata=_help("Lifetime of the bearer tokens issued for API keys.")
    )
    bootstrap_api_key: str = field(
        default="",
        metadata=_help(
            "API key for tenant `default` to create on first start instead of a random one "
            "(at least 32 characters)."
        ),
    )
    user_attempt_burst: int = field(
        default=40,
        metadata=_help(
            "Authentication attempts a user may make at once before 429 (0 turns the limit off)."
        ),
    )
    user_attempts_per_minute: float = field(
        default=60.0, metadata=_help("How fast a user's attempts come back after the burst.")
    )
    caller_requests_per_second: float = field(
        default=1000.0,
        metadata=_help(
            "Requests per second each API key may make, with twice that as a burst (0: off)."
        ),
    )
    redis_url: str = field(
        default="",
        metadata=_help(
            "Redis URL (redis://host:port/db) that shares the per-caller rate limit between "
            "server processes; empty keeps it per process."
        ),
    )
    cors_origins: str = field(
        default="",
        metadata=_help(
            "Browser origins allowed to call the API, comma-separated (e.g. "
            "`https://admin.example.com`); empty sends no CORS headers at all."
        ),
    )
    face_workers: int = field(
        default=0,
        metadata=_help(
            "Processes each server process runs the face model in, started at its first face "
            "request (0: one per core)."
        ),
    )
    face_job_seconds: float = field(
        default=30.0,
        metadata=_help(
            "Wall-clock limit of one face job (decode, detect, embed); past it the worker is "
            "killed and replaced, and the request answers 20120 or 20121."
        ),
    )
    log_level: str = field(
        default="INFO", metadata=_help("Level of the JSON log lines written to standard error.")
    )

    def __post_init__(self) -> None:
        # A misspelt environment must not quietly mean development, with its bootstrap key.
        if self.env not in ENVIRONMENTS:
            raise ValueError(
                f"IDSTORE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}"
            )

    @property
    def resolved_database_url(self) -> str:
        """The async URL: driver filled in; SQLite under the data directory by default."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'idstore.db'}"
        for plain, driver in _ASYNC_DRIVERS.items():
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keyring"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from `IDSTORE_<FIELD>`; keyword overrides (command-line flags) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in dataclasses.fields(cls):
            raw = environ.get(f"IDSTORE_{setting.name.upper()}")
            if raw is not None and raw != "":
                values[setting.name] = _convert(setting, raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


ENVIRONMENTS = ("development", "production")

_ASYNC_DRIVERS = {
    "sqlite:///": "sqlite+aiosqlite:///",
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
}


def _convert(setting: dataclasses.Field[Any], raw: str) -> Any:
    if setting.type in ("int", int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"IDSTORE_{setting.name.upper()} must be an integer") from exc
    if setting.type in ("float", float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"IDSTORE_{setting.name.upper()} must be a number") from exc
    if setting.type in ("Path", "Path | None", Path):
        return Path(raw)
    return raw


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md), made from the fields above."""
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable; `idstore serve` flags override them. This page",
        "is generated from `idstore.settings.Settings` (`idstore config-reference`).",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for setting in dataclasses.fields(Settings):
        default = setting.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        lines.append(f"| `IDSTORE_{setting.name.upper()}` | {shown} | {setting.metadata['help']} |")
    return "\n".join(lines) + "\n"
