"""The per-caller rate limit: a token bucket per API key, in this process or shared in Redis.

Every request of a caller takes one token; `rate` tokens come back each second, up to a burst of
twice that. With Redis configured every server process draws from the same bucket; without it
each process keeps its own, so N processes allow N times the rate (the docs say so).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


class CallerLimiter(Protocol):
    async def wait_seconds(self, caller_id: str) -> int:
        """0 when the caller may go on; else whole seconds until it may (the Retry-After)."""
        ...


@dataclass
class _Bucket:
    tokens: float
    at: float


class NoLimit:
    async def wait_seconds(self, caller_id: str) -> int:
        return 0


class MemoryLimiter:
    """Buckets in this process's memory (the embedded default)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self._buckets: dict[str, _Bucket] = {}

    async def wait_seconds(self, caller_id: str) -> int:
        now = time.monotonic()
        bucket = self._buckets.setdefault(caller_id, _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens < 1:
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))
        bucket.tokens -= 1
        return 0


# Atomic in Redis: refill by Redis's own clock (one clock for every process), then take a token.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens < 1 then
  wait = (1 - tokens) / rate
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisLimiter:
    """Buckets in Redis, shared by every server process. If Redis fails, requests go on: a rate
    limit that takes the service down with it protects nothing (each failure is logged)."""

    def __init__(self, url: str, rate: float) -> None:
        # Imported here: a process without Redis configured need not carry the client (memory).
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self._warned_at = 0.0
        self._failure: type[Exception] = RedisError
        self._redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take: Any = self._redis.register_script(_TAKE)

    async def wait_seconds(self, caller_id: str) -> int:
        try:
            wait = float(
                await self._take(keys=[f"idstore:rate:{caller_id}"], args=[self.rate, self.burst])
            )
        except self._failure:
            if time.monotonic() - self._warned_at > 60:  # once a minute, not once a request
                self._warned_at = time.monotonic()
                log.warning("rate_limit.redis_unavailable", exc_info=True)
            return 0
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    async def close(self) -> None:
        await self._redis.aclose()


def caller_limiter(rate: float, redis_url: str) -> CallerLimiter:
    if rate <= 0:
        return NoLimit()
    if redis_url:
        return RedisLimiter(redis_url, rate)
    return MemoryLimiter(rate)
