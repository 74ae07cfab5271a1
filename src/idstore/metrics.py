"""Prometheus metrics at /metrics: authentications, locks, request latency, database pool.

With several server processes (`--workers`), `idstore serve` gives them one directory in
PROMETHEUS_MULTIPROC_DIR before they start, each process writes its samples there, and a scrape
on any process adds them all up: the numbers are the service's, not one process's.
"""

from __future__ import annotations

import os
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

AUTHENTICATIONS = Counter(
    "idstore_authentications",
    "Authentication attempts, by modality, result and error code (0 for a success).",
    ["modality", "result", "code"],
)
LOCKS = Counter(
    "idstore_locks",
    "Locks engaged by failed attempts: of a modality, or of the user (temporary or permanent).",
    ["lock"],
)
UNATTRIBUTED_REFUSALS = Counter(
    "idstore_unattributed_refusals",
    "Completions refused before any user was known, which no audit record can hold (a session "
    "unknown or used, a discoverable sign-in's response unreadable or naming no stored passkey), "
    "by modality, ceremony and error code.",
    ["modality", "ceremony", "code"],
)
REQUEST_SECONDS = Histogram(
    "idstore_request_duration_seconds",
    "Time from a request's arrival to its answer, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
POOL_CONNECTIONS = Gauge(
    "idstore_database_connections_in_use",
    "Database connections checked out of the pool, as of the end of the last request.",
    multiprocess_mode="livesum",
)


# Each label set's child looked up once: `labels()` validates the values and takes a lock each
# time. Label values are few (modalities, error codes, route templates, statuses), so the caches
# stay small.
@cache
def authentications(modality: str, result: str, code: str) -> Counter:
    """The counter of one modality, result and error code."""
    return AUTHENTICATIONS.labels(modality, result, code)


@cache
def locks(lock: str) -> Counter:
    """The counter of one kind of lock."""
    return LOCKS.labels(lock)


@cache
def request_seconds(method: str, route: str, status: int) -> Histogram:
    """The latency histogram of one method, route template and status."""
    return REQUEST_SECONDS.labels(method, route, str(status))


def exposition() -> tuple[bytes, str]:
    """The text a scrape answers: every process's samples when several processes serve."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        registry = CollectorRegistry()
        # prometheus_client leaves this constructor unannotated.
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
