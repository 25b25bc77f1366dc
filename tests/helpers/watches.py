"""Running a watch cache against a server in tests, and comparing it with a fresh LIST."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import parse_qs

from ktopui.kube.api import KubeAPI
from ktopui.kube.watch import WatchCache


def state(objects) -> dict:
    return {(o.metadata.namespace, o.metadata.name): o.metadata.resourceVersion for o in objects}


async def equals_fresh_list(cache: WatchCache, api: KubeAPI, *, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        fresh = await (api.list_pods() if cache.resource == "pods" else api.list_nodes())
        if state(cache.values()) == state(fresh.items):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"cache differs from a fresh LIST: {len(cache.items)} vs {len(fresh.items)} items")
        await asyncio.sleep(0.1)


async def until(condition: Callable[[], object], *, within: float, what: str = "the condition") -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not come within {within:g}s")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(cache: WatchCache):
    task = asyncio.create_task(cache.run())
    try:
        yield cache
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def requests_of(server, path: str, *, watch: bool) -> list:
    """The sim's log of requests for `path`: its watches, or its lists (watches are logged when they end)."""
    return [r for r in list(server.requests) if r.path == path
            and (parse_qs(r.query).get("watch", [""])[0] in ("1", "true")) == watch]
