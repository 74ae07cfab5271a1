"""The per-caller limit: in memory per process, or in Redis shared by every process."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from idstore.services.rate_limits import MemoryLimiter, NoLimit, RedisLimiter, caller_limiter

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def test_a_caller_gets_twice_the_rate_as_a_burst_then_waits() -> None:
    limiter = MemoryLimiter(rate=2)

    async def run() -> list[int]:
        return [await limiter.wait_seconds("caller") for _ in range(5)]

    assert asyncio.run(run()) == [0, 0, 0, 0, 1]


def test_callers_have_buckets_of_their_own() -> None:
    limiter = MemoryLimiter(rate=1)

    async def run() -> list[int]:
        return [await limiter.wait_seconds(caller) for caller in ("a", "a", "a", "b")]

    assert asyncio.run(run()) == [0, 0, 1, 0]


def test_a_rate_of_zero_means_no_limit() -> None:
    assert isinstance(caller_limiter(0, ""), NoLimit)
    assert isinstance(caller_limiter(5, ""), MemoryLimiter)
    assert isinstance(caller_limiter(5, REDIS_URL), RedisLimiter)


@pytest.mark.skipif(not _redis_answers(), reason="no Redis at 127.0.0.1:6379 to share limits in")
def test_two_processes_share_one_bucket_in_redis() -> None:
    caller = f"test-{uuid.uuid4().hex}"

    async def run() -> list[int]:
        first, second = RedisLimiter(REDIS_URL, rate=2), RedisLimiter(REDIS_URL, rate=2)
        try:
            waits = []
            for limiter in (first, second, first, second, first):
                waits.append(await limiter.wait_seconds(caller))
            return waits
        finally:
            await first.close()
            await second.close()

    assert asyncio.run(run()) == [0, 0, 0, 0, 1]


def test_an_unreachable_redis_lets_requests_through() -> None:
    async def run() -> int:
        limiter = RedisLimiter("redis://127.0.0.1:1/0", rate=1)
        try:
            return await limiter.wait_seconds("caller")
        finally:
            await limiter.close()

    assert asyncio.run(run()) == 0
