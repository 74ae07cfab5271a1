"""Store ids by tenant and store name, remembered per process (per engine).

A request names its store by name, but Citus routes a statement to one worker only by the
store's id (docs/scaling.md). The hot path's one SELECT therefore needs the id before it runs;
reading the store first would cost a round trip every time. `find_store`, which every use case
that reads a store by name runs, remembers the id it reads, and the attempt takes it from here.

A remembered id may be stale: another process may have deleted the store and created one of the
same name, which has a new id. Nothing trusts the id on that account: the attempt finds its store
by tenant, name and this id together, so a stale id finds no row, and the attempt's miss path
reads the store (remembering its id anew) and tries once more.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Enough for every store a process serves in practice; past it the oldest entry goes, and its
# store costs one read of the store table the next time.
LIMIT = 4096

# One map per engine: two databases served by one process (tests run several servers) never
# mix ids. A process in production has one engine.
_BY_ENGINE: WeakKeyDictionary[AsyncEngine, dict[tuple[str, str], str]] = WeakKeyDictionary()


def _ids(conn: AsyncConnection) -> dict[tuple[str, str], str]:
    return _BY_ENGINE.setdefault(conn.engine, {})


def remembered(conn: AsyncConnection, *, tenant_id: str, name: str) -> str | None:
    """The id last read for the tenant's store of that name, or None; possibly stale."""
    ids = _BY_ENGINE.get(conn.engine)
    return None if ids is None else ids.get((tenant_id, name))


def remember(conn: AsyncConnection, *, tenant_id: str, name: str, store_id: str) -> None:
    """Note the id just read for the tenant's store of that name."""
    ids = _ids(conn)
    key = (tenant_id, name)
    if ids.get(key) == store_id:
        return
    if key not in ids and len(ids) >= LIMIT:
        # Each engine's map is used by its own event loop's thread alone: no lock needed.
        del ids[next(iter(ids))]
    ids[key] = store_id


def forget(conn: AsyncConnection, *, tenant_id: str, name: str) -> None:
    """Drop what is remembered of the tenant's store of that name (it was found missing)."""
    ids = _BY_ENGINE.get(conn.engine)
    if ids is not None:
        ids.pop((tenant_id, name), None)
