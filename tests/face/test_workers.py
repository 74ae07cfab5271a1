"""The worker pool: real processes, started at first use, whose refusals come back as raised."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
from collections.abc import Iterator

import pytest
from PIL import ImageEnhance

from idstore.face import (
    DEFAULT_MATCH_THRESHOLD,
    FaceCountRefused,
    FaceError,
    FaceTemplate,
    FaceWorkers,
    FaceWorkersBusy,
    ImageRefused,
    ModelFault,
    jobs,
)
from tests.face.conftest import astronaut_png, encoded, hopper_jpeg, opened


@pytest.fixture(scope="module")
def face_workers() -> Iterator[FaceWorkers]:
    pool = FaceWorkers(2)
    yield pool
    pool.close()


def brightened_crop() -> bytes:
    portrait = opened(hopper_jpeg()).convert("RGB").crop((100, 80, 440, 460))
    return encoded(ImageEnhance.Brightness(portrait).enhance(1.3), "JPEG", quality=85)


def astronaut_crop() -> bytes:
    return encoded(opened(astronaut_png()).convert("RGB").crop((100, 0, 400, 300)), "PNG")


def test_no_process_starts_before_the_first_face(face_workers: FaceWorkers) -> None:
    assert not FaceWorkers(1).is_started
    assert FaceWorkers().workers == len(os.sched_getaffinity(0))
    assert FaceWorkers(2).max_pending == 16


def test_a_template_made_in_a_worker_is_the_one_made_in_process(
    face_workers: FaceWorkers, hopper_template: FaceTemplate
) -> None:
    template = asyncio.run(face_workers.template_of(hopper_jpeg()))

    assert face_workers.is_started
    assert template == hopper_template
    assert template.to_bytes() == hopper_template.to_bytes()


def test_the_same_person_scores_above_and_another_below_the_threshold(
    face_workers: FaceWorkers, hopper_template: FaceTemplate
) -> None:
    async def both() -> list[float]:
        return list(
            await asyncio.gather(
                face_workers.score_against(brightened_crop(), hopper_template),
                face_workers.score_against(astronaut_crop(), hopper_template),
            )
        )

    genuine, impostor = asyncio.run(both())

    assert genuine > DEFAULT_MATCH_THRESHOLD > impostor
    assert genuine == pytest.approx(0.89, abs=0.03)  # distance 0.13, as the issue measured
    assert impostor == pytest.approx(0.42, abs=0.03)  # distance 0.70


def test_the_event_loop_keeps_running_while_a_worker_computes(
    face_workers: FaceWorkers,
) -> None:
    async def ticks_during_a_template() -> int:
        ticks = 0
        job = asyncio.ensure_future(face_workers.template_of(hopper_jpeg()))
        while not job.done():
            ticks += 1
            await asyncio.sleep(0)
        await job
        return ticks

    assert asyncio.run(ticks_during_a_template()) > 1


@pytest.mark.parametrize(
    ("image", "refusal", "code"),
    [
        (b"GIF89a not a face", ImageRefused, 3502),
        (hopper_jpeg()[:5000], ImageRefused, 3502),
        (astronaut_png(), FaceCountRefused, 3501),
    ],
)
def test_a_refusal_in_a_worker_is_raised_here_with_its_code(
    face_workers: FaceWorkers,
    hopper_template: FaceTemplate,
    image: bytes,
    refusal: type[FaceError],
    code: int,
) -> None:
    with pytest.raises(refusal) as enrolling:
        asyncio.run(face_workers.template_of(image))
    with pytest.raises(refusal) as matching:
        asyncio.run(face_workers.score_against(image, hopper_template))

    assert enrolling.value.code == matching.value.code == code
    assert enrolling.value.message == matching.value.message


def test_the_face_count_crosses_the_process_boundary(face_workers: FaceWorkers) -> None:
    with pytest.raises(FaceCountRefused) as refused:
        asyncio.run(face_workers.template_of(astronaut_png()))

    assert refused.value.faces == 2
    assert refused.value.message == "the image shows 2 faces, not one"


def test_workers_run_at_a_lower_priority(face_workers: FaceWorkers) -> None:
    asyncio.run(face_workers.template_of(hopper_jpeg()))

    pids = face_workers.worker_pids()
    assert pids
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pids} == {own + 10}


def test_a_killed_worker_is_a_model_fault_and_the_next_request_starts_a_new_pool(
    hopper_template: FaceTemplate,
) -> None:
    pool = FaceWorkers(1)
    try:
        asyncio.run(pool.template_of(hopper_jpeg()))
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)

        with pytest.raises(ModelFault) as fault:
            asyncio.run(pool.score_against(hopper_jpeg(), hopper_template))
        again = asyncio.run(pool.score_against(hopper_jpeg(), hopper_template))
    finally:
        pool.close()

    assert fault.value.code == 20121
    assert again == 1.0


def test_a_job_past_its_time_limit_kills_its_worker_and_the_pool_is_replaced() -> None:
    # A limit far below what detecting a face takes: the worker's alarm fires mid-job.
    pool = FaceWorkers(1, job_seconds=0.001)
    try:
        with pytest.raises(ModelFault) as fault:
            asyncio.run(pool.template_of(hopper_jpeg()))
        pool.job_seconds = 60.0
        again = asyncio.run(pool.template_of(hopper_jpeg()))
    finally:
        pool.close()

    assert fault.value.code == 20120
    assert again.distance_to(again) == 0.0


def test_past_the_pending_bound_a_request_is_refused_at_once_and_the_slot_comes_back() -> None:
    pool = FaceWorkers(1, max_pending=1)

    async def second_while_first_waits() -> tuple[FaceTemplate, FaceWorkersBusy]:
        first = asyncio.ensure_future(pool.template_of(hopper_jpeg()))
        await asyncio.sleep(0)  # the first takes the only slot before its first await
        with pytest.raises(FaceWorkersBusy) as busy:
            await pool.template_of(hopper_jpeg())
        return await first, busy.value

    try:
        template, refusal = asyncio.run(second_while_first_waits())
        after = asyncio.run(pool.template_of(hopper_jpeg()))
    finally:
        pool.close()

    assert (refusal.code, refusal.message) == (9005, "the face workers are busy (1 waiting)")
    assert after == template


@pytest.mark.parametrize(("job", "code"), [("template_of", 20120), ("score_against", 20121)])
def test_an_unexpected_error_in_the_model_is_a_model_fault_that_echoes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    hopper_template: FaceTemplate,
    job: str,
    code: int,
) -> None:
    def broken_model() -> object:
        raise RuntimeError("pixels 0xdeadbeef")

    monkeypatch.setattr(jobs, "loaded_model", broken_model)

    with caplog.at_level(logging.ERROR), pytest.raises(ModelFault) as fault:
        if job == "template_of":
            jobs.template_of(hopper_jpeg())
        else:
            jobs.score_against(hopper_jpeg(), hopper_template)

    assert (fault.value.code, fault.value.message) == (
        code,
        "the face model failed (RuntimeError)",
    )
    assert [record.getMessage() for record in caplog.records] == ["face.model_fault"]
    assert "deadbeef" not in caplog.text


@pytest.mark.parametrize(
    "refusal",
    [
        ImageRefused("the image is empty"),
        FaceCountRefused("the image shows 3 faces, not one", faces=3),
        ModelFault("the face model failed (ValueError)", during_match=True),
        FaceWorkersBusy("the face workers are busy (16 waiting)"),
    ],
)
def test_every_refusal_pickles_with_its_fields(refusal: FaceError) -> None:
    copy = pickle.loads(pickle.dumps(refusal))  # noqa: S301  # our own bytes, just made

    assert (type(copy), copy.code, copy.message) == (type(refusal), refusal.code, refusal.message)
    assert vars(copy) == vars(refusal)
