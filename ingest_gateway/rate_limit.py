"""A token bucket per write token, counted in readings."""

from __future__ import annotations

import time
from uuid import UUID

from ingest_gateway.errors import RateLimited


class ReadingsRateLimiter:
    """Allows ``rate`` readings per second per token, in bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[UUID, tuple[float, float]] = {}  # token -> (tokens, last refill)

    def take(self, token_id: UUID, readings: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        level, last = self._buckets.get(token_id, (self.burst, now))
        level = min(self.burst, level + (now - last) * self.rate)
        if readings > level:
            self._buckets[token_id] = (level, now)
            wait = (readings - level) / self.rate
            raise RateLimited(
                f"over this token's rate of {self.rate:.0f} readings/s; retry in {wait:.1f} s",
                retry_after=wait,
            )
        self._buckets[token_id] = (level - readings, now)
