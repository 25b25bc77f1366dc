"""Watch caches kept running, one task each, by source ("nodes", "pods", "jobs"...)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ktopui.kube.watch import WatchCache


class Watches:
    """The running watch caches of one owner (the feed, the owners' and quotas' part of it)."""

    def __init__(self) -> None:
        self._caches: dict[str, WatchCache] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    def get(self, source: str) -> WatchCache | None:
        return self._caches.get(source)

    def start(self, source: str, make: Callable[[], WatchCache]) -> WatchCache:
        """The cache of `source`, made by `make` and started when it is not running yet."""
        cache = self._caches.get(source)
        if cache is None:
            cache = self._caches[source] = make()
            self._tasks[source] = asyncio.create_task(cache.run())
        return cache

    def stop(self, source: str) -> None:
        task = self._tasks.pop(source, None)
        if task is not None:
            task.cancel()
        self._caches.pop(source, None)

    async def close(self) -> None:
        """Every cache stopped, and their tasks awaited."""
        tasks = list(self._tasks.values())
        for source in list(self._tasks):
            self.stop(source)
        await asyncio.gather(*tasks, return_exceptions=True)
