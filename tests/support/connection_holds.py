"""Who holds which pooled connection: a request (an asyncio task) must never hold two at once.

The pool has no overflow (src/idstore/db/engine.py): a task that holds one connection and waits
for a second could, with as many such tasks as connections, wait for ever. Every checkout of the
test server's pool is recorded against the task that made it; a second checkout by a task that
still holds one is kept, with where it came from, for the test to fail on.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from typing import Any

import greenlet
from sqlalchemy import event

from idstore.db.engine import Database


class ConnectionHolds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: dict[int, asyncio.Task[Any] | None] = {}  # connection record -> task
        self._nested: list[str] = []

    def watch(self, database: Database) -> None:
        pool = database.engine.sync_engine.pool
        event.listen(pool, "checkout", self._on_checkout)
        event.listen(pool, "checkin", self._on_checkin)

    def take_nested(self) -> list[str]:
        """The nested checkouts seen since the last call, each with its stack."""
        with self._lock:
            nested, self._nested = self._nested, []
        return nested

    def _on_checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        task = _current_task()
        with self._lock:
            if task is not None and task in self._holder.values():
                self._nested.append(_awaiting(task))
            self._holder[id(record)] = task

    def _on_checkin(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            self._holder.pop(id(record), None)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop in this thread
        return None


def _awaiting(task: asyncio.Task[Any]) -> str:
    """Where the task took the connection. The checkout runs in a greenlet of SQLAlchemy's; the
    task's own frames are on the stack of the greenlet that started it, paused meanwhile."""
    parent = greenlet.getcurrent().parent
    frame = parent.gr_frame if parent is not None else None
    stack = traceback.format_stack(frame, limit=25) if frame is not None else []
    return f"task {task.get_name()}:\n" + "".join(stack)
