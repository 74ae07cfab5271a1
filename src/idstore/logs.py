"""Structured logs: one JSON object per line, with the request id of the request being served.

A line is a fixed event name plus fields. Secrets, codes, API keys, tokens and query strings are
never passed to a logger, so no filter has to find them afterwards.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
# uvicorn adds `color_message`, a copy of the event with terminal colours.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update((key, value) for key, value in vars(record).items() if key not in _STANDARD)
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = format_exception_safely(record.exc_info[1])
        return json.dumps(line, default=str)


# Database errors print the statement, and drivers print the values bound to it: sealed secrets,
# external ids. From these modules only the error's type (and SQLSTATE) reaches a log line.
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite")


def format_exception_safely(error: BaseException) -> str:
    """A traceback (frames only, no local values) whose database errors are named, not quoted."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts = []
    for exception in reversed(chain):
        parts.append("".join(traceback.format_tb(exception.__traceback__)))
        parts.append(f"{type(exception).__module__}.{type(exception).__qualname__}: ")
        parts.append(_describe(exception) + "\n")
    return "".join(parts)


def _describe(error: BaseException) -> str:
    if type(error).__module__.split(".")[0] not in _DATABASE_MODULES:
        return str(error)
    sqlstate = getattr(getattr(error, "orig", error), "sqlstate", None)
    return f"(details withheld: database error{f', SQLSTATE {sqlstate}' if sqlstate else ''})"


def tag_records_with_request_id() -> None:
    """Stamp every record with the request id where it is made (the handler may run elsewhere)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "tags_request_id", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = current_request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    make_record.tags_request_id = True  # type: ignore[attr-defined]  # marks the installed factory
    logging.setLogRecordFactory(make_record)


def configure(level: str = "INFO") -> None:
    """Send every logger's lines, as JSON, to standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn installs its own handlers; let its lines reach ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
