"""A transaction's end runs to completion even when its request is cancelled meanwhile: the
cancellation is raised once the end is done; a failure of the end itself is never lost."""

from __future__ import annotations

import asyncio

import pytest

from idstore.db.engine import _run_to_completion


def _cancel_while_ending(fails: bool) -> tuple[BaseException, list[str]]:
    """The request ends a transaction and is cancelled while the end runs; what it raised."""
    steps: list[str] = []

    async def end_of_transaction() -> None:
        steps.append("started")
        await asyncio.sleep(0.05)
        steps.append("finished")
        if fails:
            raise RuntimeError("COMMIT refused")

    async def run() -> BaseException:
        request = asyncio.ensure_future(_run_to_completion(end_of_transaction()))
        await asyncio.sleep(0.01)
        request.cancel()
        with pytest.raises((asyncio.CancelledError, RuntimeError)) as raised:
            await request
        return raised.value

    return asyncio.run(run()), steps


def test_a_cancelled_request_waits_for_its_transaction_to_end() -> None:
    cancelled, steps = _cancel_while_ending(fails=False)

    assert steps == ["started", "finished"]
    assert isinstance(cancelled, asyncio.CancelledError)
    assert cancelled.__cause__ is None


def test_a_failure_of_the_end_is_raised_not_lost_in_the_cancellation() -> None:
    raised, steps = _cancel_while_ending(fails=True)

    assert steps == ["started", "finished"]
    assert isinstance(raised, RuntimeError) and str(raised) == "COMMIT refused"
