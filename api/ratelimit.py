"""Rate limits: an in-process token bucket per (limit, caller), answered with 429 and Retry-After.

A caller is the API key's name where the route needs a key (declarations), else the client's IP
address (action links, sign-in, provider webhooks). Each API process counts on its own: with N
replicas behind a balancer a caller gets up to N times the rate. Behind a reverse proxy, run
uvicorn with the proxy's address in FORWARDED_ALLOW_IPS so the client's IP is the one counted.
"""

import math
import time

from fastapi import HTTPException, Request

from settings import Rate

MAX_TRACKED = 10_000  # callers remembered per limit before full (idle) buckets are forgotten


class TokenBucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, capacity: float, now: float):
        self.tokens = capacity
        self.updated = now


class Limiter:
    """Buckets for one limit. ``take`` answers 0 when the request may go ahead, otherwise the
    seconds until it could."""

    def __init__(self, rate: Rate, clock=time.monotonic):
        self.rate = rate
        self.refill_per_second = rate.count / rate.period
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def take(self, caller: str) -> int:
        now = self.clock()
        bucket = self.buckets.get(caller)
        if bucket is None:
            if len(self.buckets) >= MAX_TRACKED:
                self._forget_idle(now)
            bucket = self.buckets[caller] = TokenBucket(self.rate.count, now)
        bucket.tokens = min(self.rate.count, bucket.tokens + (now - bucket.updated) * self.refill_per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.refill_per_second))

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled: forgetting them changes nothing."""
        full = [
            caller
            for caller, bucket in self.buckets.items()
            if bucket.tokens + (now - bucket.updated) * self.refill_per_second >= self.rate.count
        ]
        for caller in full:
            del self.buckets[caller]
        if len(self.buckets) >= MAX_TRACKED:  # a flood of distinct callers: start afresh rather than grow
            self.buckets.clear()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RateLimited:
    """A route dependency: ``Depends(RateLimited("declare"))``. The limit's rate is the setting
    ``rate_limit_<name>`` (CRISIS_RATE_LIMIT_<NAME>)."""

    def __init__(self, name: str):
        self.name = name

    async def __call__(self, request: Request) -> None:
        limiters: dict[str, Limiter] = request.app.state.limiters
        limiter = limiters.get(self.name)
        if limiter is None:
            limiter = limiters[self.name] = Limiter(getattr(request.app.state.settings, f"rate_limit_{self.name}"))
        caller = getattr(request.state, "principal", None)
        identity = f"key:{caller.name}" if caller is not None else f"ip:{client_ip(request)}"
        wait = limiter.take(identity)
        if wait:
            raise HTTPException(
                429, f"too many requests: the limit is {limiter.rate}; try again in {wait} s", headers={"Retry-After": str(wait)}
            )


TOO_MANY = {429: {"description": "Rate limit reached; the Retry-After header says when to try again"}}
