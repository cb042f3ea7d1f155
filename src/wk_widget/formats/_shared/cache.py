"""Small caches of the readers: a bounded LRU (entries and bytes) and single-flight loads
(concurrent awaiters of one key share one task). Decoded chunks live in the engine's
ChunkCache; these hold what readers learn about an array's layout (shard indexes)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MISSING: Any = object()  # what `LRU.get` returns for a key it does not hold (None is a value)


class LRU(Generic[K, V]):
    """A bounded least-recently-used map: at most `max_entries` entries and `max_bytes`
    bytes (as the caller counts them in `put`)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    def get(self, key: K, default: Any = MISSING) -> Any:
        """The value of `key` (now the most recent), else `default` (MISSING)."""
        item = self._data.get(key)
        if item is None:
            return default
        self._data.move_to_end(key)
        return item[0]

    def put(self, key: K, value: V, nbytes: int = 0) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._data[key] = (value, nbytes)
        self._bytes += nbytes
        while self._data and (len(self._data) > self._max_entries or self._bytes > self._max_bytes):
            _, (_, size) = self._data.popitem(last=False)
            self._bytes -= size

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __getitem__(self, key: K) -> V:
        return self._data[key][0]

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._bytes


class SingleFlight(Generic[K, V]):
    """One in-flight load per key, shared by concurrent callers. Each load runs as its own
    task (a cancelled caller does not cancel what others wait for); `on_done` sees each
    successful result before any waiter resumes (e.g. to put it into an LRU)."""

    def __init__(self) -> None:
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    def pending(self, key: K) -> asyncio.Future[V] | None:
        return self._pending.get(key)

    def future(
        self, key: K, factory: Callable[[], Awaitable[V]], on_done: Callable[[V], None] | None = None
    ) -> asyncio.Future[V]:
        """The load of `key` in flight, else a new one from `factory()`."""
        future = self._pending.get(key)
        if future is not None:
            return future
        future = self.spawn(factory())
        self._pending[key] = future

        def forget(f: asyncio.Future[V]) -> None:
            if self._pending.get(key) is f:
                del self._pending[key]
            if on_done is not None and not f.cancelled() and f.exception() is None:
                on_done(f.result())

        future.add_done_callback(forget)
        return future

    async def get(
        self, key: K, factory: Callable[[], Awaitable[V]], on_done: Callable[[V], None] | None = None
    ) -> V:
        """Await the shared load of `key` (shielded: cancelling this caller leaves it running)."""
        return await asyncio.shield(self.future(key, factory, on_done))

    def spawn(self, aw: Awaitable[Any]) -> asyncio.Future[Any]:
        """A task kept alive until done, whose error is retrieved here (awaiters still see it)."""
        task = asyncio.ensure_future(aw)
        self._tasks.add(task)

        def done(f: asyncio.Future[Any]) -> None:
            self._tasks.discard(f)
            if not f.cancelled():
                f.exception()

        task.add_done_callback(done)
        return task


async def cached_load(
    lru: LRU[K, V],
    flights: SingleFlight[K, V],
    key: K,
    load: Callable[[], Awaitable[V]],
    nbytes: Callable[[V], int],
) -> V:
    """`key`'s value from the LRU, else loaded once (however many ask at once) and kept."""
    cached = lru.get(key)
    if cached is not MISSING:
        return cached
    return await flights.get(key, load, lambda value: lru.put(key, value, nbytes(value)))
