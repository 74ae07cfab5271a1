"""The benchmark's PostgreSQL database: made fresh (and dropped) or given, and its counters."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]  # no type information published

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")

# Counters of the bench database, summed over its tables where they are per table.
_COUNTERS = """
SELECT d.xact_commit + d.xact_rollback AS transactions, d.sessions,
       coalesce(sum(t.seq_scan + coalesce(t.idx_scan, 0)), 0)::bigint AS scans,
       coalesce(sum(t.n_tup_ins), 0)::bigint AS inserted,
       coalesce(sum(t.n_tup_upd), 0)::bigint AS updated,
       coalesce(sum(t.n_tup_ins) FILTER (WHERE t.relname = 'authentication_audit'), 0)::bigint
           AS audited
FROM pg_stat_database d LEFT JOIN pg_stat_user_tables t ON true
WHERE d.datname = current_database()
GROUP BY d.xact_commit, d.xact_rollback, d.sessions
"""


class DatabaseRefused(Exception):
    """The database the benchmark was pointed at cannot be used."""


@dataclass(frozen=True)
class Counters:
    """pg_stat_database and pg_stat_user_tables counters at one moment (sessions: connections
    opened to the database, PostgreSQL 14 and later)."""

    transactions: int
    sessions: int
    scans: int
    inserted: int
    updated: int
    audited: int  # authentication audit records written: one per attempt either app decided

    def minus(self, earlier: Counters) -> Counters:
        return Counters(
            transactions=self.transactions - earlier.transactions,
            sessions=self.sessions - earlier.sessions,
            scans=self.scans - earlier.scans,
            inserted=self.inserted - earlier.inserted,
            updated=self.updated - earlier.updated,
            audited=self.audited - earlier.audited,
        )


@dataclass(frozen=True)
class BenchDatabase:
    """The database both servers use. `created` means the harness made it and drops it."""

    url: str
    name: str
    created: bool

    @property
    def dsn(self) -> str:
        """The URL as asyncpg and libpq take it (no SQLAlchemy driver suffix)."""
        return "postgresql://" + self.url.split("://", 1)[1]

    async def counters(self) -> Counters:
        connection = await asyncpg.connect(self.dsn)
        try:
            row = await connection.fetchrow(_COUNTERS)
        finally:
            await connection.close()
        assert row is not None
        return Counters(
            transactions=row["transactions"],
            sessions=row["sessions"],
            scans=row["scans"],
            inserted=row["inserted"],
            updated=row["updated"],
            audited=row["audited"],
        )


async def open_database(stamp: str) -> BenchDatabase:
    """IDSTORE_DATABASE_URL if set (PostgreSQL only), else a new idstore_bench_<stamp>."""
    given = os.environ.get("IDSTORE_DATABASE_URL", "")
    if given:
        if not given.startswith(_SCHEMES):
            raise DatabaseRefused(f"IDSTORE_DATABASE_URL must be a PostgreSQL URL, not {given!r}")
        name = urlsplit(given).path.lstrip("/")
        return BenchDatabase(url=given, name=name, created=False)

    name = f"idstore_bench_{stamp}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(ADMIN_URL)
    return BenchDatabase(url=urlunsplit(parts._replace(path="/" + name)), name=name, created=True)


async def drop_database(database: BenchDatabase) -> None:
    """Drop the database if the harness created it; a given database is left as it is."""
    if not database.created:
        return
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    except asyncpg.PostgresError as failure:
        print(f"bench: could not drop {database.name}: {failure}", file=sys.stderr)
    finally:
        await admin.close()
