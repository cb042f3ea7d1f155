"""Counting what streaming costs the data owner: requests and bytes."""

from __future__ import annotations

import threading


class RequestMeter:
    """Thread-safe counters of requests and bytes (what streaming costs the data owner)."""

    __slots__ = ("_lock", "bytes", "errors", "requests", "retries")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.retries = 0
        self.errors = 0

    def add(self, nbytes: int = 0, *, requests: int = 1, retries: int = 0, errors: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes
            self.retries += retries
            self.errors += errors

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "requests": self.requests,
                "bytes": self.bytes,
                "retries": self.retries,
                "errors": self.errors,
            }

    def reset(self) -> None:
        with self._lock:
            self.requests = self.bytes = self.retries = self.errors = 0

    def __repr__(self) -> str:
        s = self.snapshot()
        return f"RequestMeter(requests={s['requests']}, bytes={s['bytes']})"
