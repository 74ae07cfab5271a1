"""PostgreSQL's plans for the statements a live server ran: which tables it scanned, and how.

A `PlanRecorder` keeps each statement a request ran with the very parameters it was bound to;
`explain` asks PostgreSQL for the plan of that statement with those values, as the server's own
execution would get it (a custom plan for the given values).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no type information published
from sqlalchemy import event
from sqlalchemy.engine import make_url

from idstore.db.engine import Database

_SKIPPED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True)
class Ran:
    """One statement as the driver received it: its text ($n placeholders) and values."""

    statement: str
    parameters: tuple[Any, ...]


@dataclass(frozen=True)
class Scan:
    """One scan node of a plan: `Seq Scan`, `Index Scan`, `Bitmap Index Scan`…"""

    node_type: str
    relation: str | None
    index: str | None


@dataclass
class PlanRecorder:
    """Records the statements of requests while a capture is open."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _captures: list[list[Ran]] = field(default_factory=list)

    def watch(self, database: Database) -> None:
        @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
        def _record(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if conn.get_execution_options().get("idstore_housekeeping"):
                return  # the revocation refresh runs on its own, not for a request
            if statement.lstrip().upper().startswith(_SKIPPED):
                return
            with self._lock:
                for capture in self._captures:
                    capture.append(Ran(statement, tuple(parameters or ())))

    @contextmanager
    def capture(self) -> Iterator[list[Ran]]:
        ran: list[Ran] = []
        with self._lock:
            self._captures.append(ran)
        try:
            yield ran
        finally:
            with self._lock:
                self._captures.remove(ran)


def explain(database_url: str, ran: Sequence[Ran]) -> list[list[Scan]]:
    """The scan nodes of each statement's plan, in order."""
    return asyncio.run(_explain(database_url, ran))


async def _explain(database_url: str, ran: Sequence[Ran]) -> list[list[Scan]]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        plans = []
        for one in ran:
            text = await connection.fetchval(
                f"EXPLAIN (FORMAT JSON) {one.statement}", *one.parameters
            )
            plans.append(list(_scans(json.loads(text)[0]["Plan"])))
        return plans
    finally:
        await connection.close()


def _scans(node: dict[str, Any]) -> Iterator[Scan]:
    if "Scan" in node["Node Type"]:
        yield Scan(node["Node Type"], node.get("Relation Name"), node.get("Index Name"))
    for child in node.get("Plans", ()):
        yield from _scans(child)
