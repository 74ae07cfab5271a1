"""The face model off the event loop: a pool of processes, each holding its own loaded model.

Decoding and the model are CPU work of a tenth of a second and more; in the server's process they
would stall every other request. The pool runs them in separate processes, one per core unless
told otherwise, started at the first face request so that a server which never sees a face pays
neither their start nor their memory. The processes are started by a forkserver, never by fork:
the server is an asyncio process with threads, and a forked child inherits their locks in
whatever state they were. Workers run at a lower priority (`nice`) so that the cheap requests the
service exists for, TOTP authentications, keep their latency while a face is being matched.

Errors raised in a worker come back as the same FaceError; anything else that fails there, or a
worker that dies, comes back as ModelFault (20120 while enrolling, 20121 while matching).
Images and templates are never logged, here or in the workers.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final, TypeVar

from idstore.face.errors import FaceError, ModelFault
from idstore.face.images import decode_image
from idstore.face.model import loaded_model
from idstore.face.scoring import score_of
from idstore.face.templates import FaceTemplate

log = logging.getLogger(__name__)

WORKER_NICENESS: Final = 10
_Result = TypeVar("_Result", FaceTemplate, float)


def default_worker_count() -> int:
    """One worker per core this process may run on."""
    return max(len(os.sched_getaffinity(0)), 1)


class FaceWorkers:
    """A lazily started process pool that makes and compares face templates."""

    def __init__(self, workers: int | None = None, *, niceness: int = WORKER_NICENESS) -> None:
        if workers is not None and workers < 1:
            raise ValueError("a face pool has at least one worker")
        self.workers = workers or default_worker_count()
        self._niceness = niceness
        self._pool: ProcessPoolExecutor | None = None
        self._pool_guard = threading.Lock()

    async def template_of(self, image: bytes) -> FaceTemplate:
        """The template of the one face in a JPEG or PNG image.

        Raises ImageRefused (3502), FaceCountRefused (3501) or ModelFault (20120).
        """
        return await self._run(_template_job, image, None, during_match=False)

    async def score_against(self, image: bytes, enrolled: FaceTemplate) -> float:
        """The 0-1 likeness of the one face in the image to an enrolled template.

        Raises ImageRefused (3502), FaceCountRefused (3501) or ModelFault (20121).
        """
        return await self._run(_score_job, image, enrolled, during_match=True)

    def close(self) -> None:
        """Stop the workers, dropping queued work; a later request starts a new pool."""
        with self._pool_guard:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def is_started(self) -> bool:
        """Whether the processes exist: false until the first face request."""
        return self._pool is not None

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers (for the benchmark's memory figures)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return sorted(processes)

    async def _run(
        self,
        job: Callable[[bytes, FaceTemplate | None], _Result],
        image: bytes,
        enrolled: FaceTemplate | None,
        *,
        during_match: bool,
    ) -> _Result:
        pool = self._started_pool()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, job, image, enrolled)
        except FaceError:
            raise
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory): the pool is unusable; the next call starts one.
            self._discard(pool)
            log.error("face.worker_died", extra={"error_type": type(exc).__name__})
            raise ModelFault("a face worker stopped", during_match=during_match) from exc

    def _started_pool(self) -> ProcessPoolExecutor:
        with self._pool_guard:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                # The forkserver imports the model's libraries once; workers fork from it with
                # them loaded, and each then loads the weights in its initializer.
                context.set_forkserver_preload(["idstore.face.workers"])
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_prepare_worker,
                    initargs=(self._niceness,),
                )
            return self._pool

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._pool_guard:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)


def _prepare_worker(niceness: int) -> None:
    """Runs once in each worker: lower its priority, then load the model."""
    if niceness:
        os.nice(niceness)
    loaded_model()


def _template_job(image: bytes, _enrolled: FaceTemplate | None) -> FaceTemplate:
    try:
        return loaded_model().template_of(decode_image(image))
    except FaceError:
        raise
    except Exception as exc:
        raise _fault(exc, during_match=False) from None


def _score_job(image: bytes, enrolled: FaceTemplate | None) -> float:
    try:
        assert enrolled is not None  # noqa: S101  # FaceWorkers.score_against always passes one
        presented = loaded_model().template_of(decode_image(image))
        return score_of(presented.distance_to(enrolled))
    except FaceError:
        raise
    except Exception as exc:
        raise _fault(exc, during_match=True) from None


def _fault(exc: Exception, *, during_match: bool) -> ModelFault:
    # The type names the fault; the message may quote the input, so it stays out of the log.
    log.error("face.model_fault", extra={"error_type": type(exc).__name__})
    return ModelFault(f"the face model failed ({type(exc).__name__})", during_match=during_match)
