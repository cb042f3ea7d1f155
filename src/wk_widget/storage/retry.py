"""How hard reads try: the retry budget, `Retry-After` handling and per-request timeouts.

One process-wide policy (`wk.set_retry_policy`); every `Storage` reads it at each request,
so changing it applies at once. Delays grow exponentially with jitter; a server's
`Retry-After` (seconds or an HTTP date) is honoured up to `max_retry_after`; no retry starts
when it would end after `budget` seconds from the first attempt.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass, replace

DEFAULT_BUDGET = 30.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    budget: float = DEFAULT_BUDGET  # seconds from the first attempt within which retries may start
    read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds one request (headers and body) may take
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER  # cap on a server's Retry-After
    first_delay: float = 0.1
    max_delay: float = 4.0


_policy = RetryPolicy()


def retry_policy() -> RetryPolicy:
    return _policy


def set_retry_policy(
    *,
    budget: float | None = None,
    read_timeout: float | None = None,
    max_retry_after: float | None = None,
) -> RetryPolicy:
    """Set how long reads keep retrying (seconds): `budget` for all retries of one request
    (default 30), `read_timeout` per request including its body (default 30), and the cap
    on a server's `Retry-After` (default 10). Returns the policy now in effect."""
    global _policy
    changes: dict[str, float] = {}
    for key, value in (("budget", budget), ("read_timeout", read_timeout), ("max_retry_after", max_retry_after)):
        if value is None:
            continue
        number = float(value)
        if not math.isfinite(number) or number < 0 or (key == "read_timeout" and number == 0):
            raise ValueError(f"{key} must be a finite number of seconds (> 0 for read_timeout)")
        changes[key] = number
    _policy = replace(_policy, **changes)
    return _policy


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryClock:
    """The retry schedule of one request."""

    __slots__ = ("_delay", "_policy", "_start")

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self._policy = policy or _policy
        self._start = time.monotonic()
        self._delay = self._policy.first_delay

    def next_delay(self, retry_after: float | None, jitter: float) -> float | None:
        """Seconds to sleep before the next attempt, or None when the budget is spent."""
        p = self._policy
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), p.max_retry_after)
        else:
            delay = min(self._delay * (1 + jitter), p.max_delay)
            self._delay = min(self._delay * 2, p.max_delay)
        if time.monotonic() - self._start + delay > p.budget:
            return None
        return delay
