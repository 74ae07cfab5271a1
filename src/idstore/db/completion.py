"""Work that must finish once begun, whatever happens to the request that began it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def run_to_completion(work: Awaitable[None]) -> None:
    """Await `work` in a task of its own that a cancellation of this one does not stop; such a
    cancellation is raised once the work is done, so the caller never leaves it half done."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.cancelled():
                raise
            cancelled = error
    if cancelled is not None:
        # The work's own failure (a COMMIT refused, say) goes with the cancellation, not lost.
        raise cancelled from task.exception()
    task.result()
