"""The face model off the event loop: a pool of processes, each holding its own loaded model.

Decoding and the model are CPU work of a tenth of a second and more; in the server's process they
would stall every other request. The pool runs them in separate processes, one per core unless
told otherwise, started at the first face request so that a server which never sees a face pays
neither their start nor their memory. The processes are started by a forkserver, never by fork:
the server is an asyncio process with threads, and a forked child inherits their locks in
whatever state they were. Workers run at a lower priority (`nice`) so that the cheap requests the
service exists for, TOTP authentications, keep their latency while a face is being matched.

Errors raised in a worker come back as the same FaceError; anything else that fails there, or a
worker that dies, comes back as ModelFault (20120 while enrolling, 20121 while matching). Requests
waiting for a worker are bounded (`max_pending`, 8 a worker by default): each holds its image in
memory, so past the bound a request is refused at once with FaceWorkersBusy (9005, 429).
Every job runs under a wall-clock limit (`job_seconds`, 30 s by default): past it the worker's
own alarm kills it, the pool is replaced, and the request answers ModelFault (20120/20121): the
image's shape is bounded before decoding (structure.py), so a job this slow is the model's fault.
Jobs running in the same pool at that moment fail the same way.
Images and templates are never logged, here or in the workers.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Final, TypeVar

from idstore.face.errors import FaceError, FaceWorkersBusy, ModelFault
from idstore.face.templates import FaceTemplate

log = logging.getLogger(__name__)

WORKER_NICENESS: Final = 10
# Each request waiting for a worker holds its image (up to 10 MiB) in this process: past this many
# per worker, a new one is refused at once rather than queued without bound.
PENDING_PER_WORKER: Final = 8
DEFAULT_JOB_SECONDS: Final = 30.0
_Result = TypeVar("_Result", FaceTemplate, float)


def default_worker_count() -> int:
    """One worker per core this process may run on."""
    return max(len(os.sched_getaffinity(0)), 1)


class FaceWorkers:
    """A lazily started process pool that makes and compares face templates."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        niceness: int = WORKER_NICENESS,
        max_pending: int | None = None,
        job_seconds: float = DEFAULT_JOB_SECONDS,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError("a face pool has at least one worker")
        if job_seconds <= 0:
            raise ValueError("a face job's time limit is positive")
        self.job_seconds = job_seconds
        self.workers = workers or default_worker_count()
        self.max_pending = max_pending or self.workers * PENDING_PER_WORKER
        self._niceness = niceness
        self._pool: ProcessPoolExecutor | None = None
        self._pool_guard = threading.Lock()
        self._pending = 0

    async def template_of(self, image: bytes) -> FaceTemplate:
        """The template of the one face in a JPEG or PNG image.

        Raises ImageRefused (3502), FaceCountRefused (3501), ModelFault (20120) or
        FaceWorkersBusy (9005).
        """
        return await self._run(_template_job, image, None, during_match=False)

    async def score_against(self, image: bytes, enrolled: FaceTemplate) -> float:
        """The 0-1 likeness of the one face in the image to an enrolled template.

        Raises ImageRefused (3502), FaceCountRefused (3501), ModelFault (20121) or
        FaceWorkersBusy (9005).
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
        job: Callable[[bytes, FaceTemplate | None, float], _Result],
        image: bytes,
        enrolled: FaceTemplate | None,
        *,
        during_match: bool,
    ) -> _Result:
        self._take_slot()
        try:
            pool = self._started_pool()
            return await asyncio.get_running_loop().run_in_executor(
                pool, job, image, enrolled, self.job_seconds
            )
        except FaceError:
            raise
        except BrokenProcessPool as exc:
            # A worker died (past its time limit, killed, out of memory): the pool is unusable;
            # the next call starts one.
            self._discard(pool)
            log.error("face.worker_died", extra={"error_type": type(exc).__name__})
            raise ModelFault("a face worker stopped", during_match=during_match) from exc
        finally:
            with self._pool_guard:
                self._pending -= 1

    def _take_slot(self) -> None:
        with self._pool_guard:
            if self._pending >= self.max_pending:
                raise FaceWorkersBusy(f"the face workers are busy ({self.max_pending} waiting)")
            self._pending += 1

    def _started_pool(self) -> ProcessPoolExecutor:
        with self._pool_guard:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                # The forkserver imports the model's libraries once; workers fork from it with
                # them loaded, and each then loads the weights in its initializer.
                context.set_forkserver_preload(["idstore.face.jobs"])
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


# The pool pickles these by name; they import the jobs inside the worker, keeping dlib, numpy and
# Pillow out of the serving process, which imports this module.


def _prepare_worker(niceness: int) -> None:
    from idstore.face import jobs

    jobs.prepare(niceness)


def _template_job(image: bytes, _enrolled: FaceTemplate | None, seconds: float) -> FaceTemplate:
    from idstore.face import jobs

    with _time_limit(seconds):
        return jobs.template_of(image)


def _score_job(image: bytes, enrolled: FaceTemplate | None, seconds: float) -> float:
    from idstore.face import jobs

    if enrolled is None:  # score_against always passes one
        raise ModelFault("no enrolled template to score against", during_match=True)
    with _time_limit(seconds):
        return jobs.score_against(image, enrolled)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Kill this worker if the job outlasts `seconds`. SIGALRM's default action ends the process
    even while a decoder or dlib holds it in C, where no Python exception could be raised."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
