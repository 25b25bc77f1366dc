"""Watches from servers that misbehave in ways the simulated cluster does not: a failure
after the headers, a gzip bomb, 405. Small plain-HTTP servers written here."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx
import pytest
from helpers.watches import running, until

from ktopui.kube.api import KubeAPI
from ktopui.kube.watch import WatchCache, WatchSettings
from ktopui.kube.watch_lines import EventLines, EventTooLarge

FAST = WatchSettings(watch_seconds=1, silence_slack=0.5, retry_interval=0.05, retry_cap=0.4, min_relist=0.5,
                     watch_retry=3600.0, max_event_bytes=1 << 20)
POD_LIST = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"},
                       "items": [{"metadata": {"name": "web-1", "namespace": "shop", "resourceVersion": "7"}}]})
STATUS_500 = b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd leader changed","code":500}'


class HostileServer:
    """An API server on 127.0.0.1 (plain HTTP) whose LIST of pods works and whose every
    watch is answered by `watch`; `requests` logs (monotonic time, "list" or "watch")."""

    def __init__(self, watch: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> None:
        self.watch = watch
        self.requests: list[tuple[float, str]] = []

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = "http://127.0.0.1:%d" % self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    def count(self, kind: str) -> int:
        return sum(1 for _, k in self.requests if k == kind)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            watching = b"watch=1" in head.split(b"\r\n", 1)[0]
            self.requests.append((time.monotonic(), "watch" if watching else "list"))
            if watching:
                await self.watch(writer)
            else:
                body = POD_LIST.encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def http_200(extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra + b"\r\n"


async def error_after_headers(writer: asyncio.StreamWriter) -> None:
    writer.write(http_200() + b'{"type":"ERROR","object":%s}\n' % STATUS_500)


async def not_allowed(writer: asyncio.StreamWriter) -> None:
    body = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server does not allow this '
            b'method on the requested resource","reason":"MethodNotAllowed","code":405}')
    writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(body), body))


async def empty(writer: asyncio.StreamWriter) -> None:
    writer.write(http_200())


def bomb(inflated: int) -> bytes:
    """A gzip body whose one line inflates to `inflated` bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'{"type":"ADDED","object":{"metadata":{"name":"')]
    block = b"x" * (1 << 20)
    parts += [packer.compress(block) for _ in range(inflated >> 20)]
    return b"".join(parts) + packer.flush()


BOMB = bomb(256 << 20)


async def gzip_bomb(writer: asyncio.StreamWriter) -> None:
    writer.write(http_200(b"Content-Encoding: gzip\r\n") + BOMB)


async def test_a_watch_that_fails_after_its_headers_backs_off_more_each_time():
    async with HostileServer(error_after_headers) as server, httpx.AsyncClient() as http:
        settings = replace(FAST, retry_cap=5.0)
        async with running(WatchCache(KubeAPI(http, server.url), "pods", settings=settings)) as cache:
            await asyncio.sleep(3.0)
            assert "etcd leader changed" in cache.error.message
    # Backoffs of at least 0.05, 0.1, 0.2, 0.4, 0.8 and 1.6 s: 3.15 s in all. (Counting
    # the headers as health reset the count each time: about 40 watches in 3 s.)
    assert server.count("watch") <= 7, server.requests
    assert server.count("list") == 1  # the LIST it had is still good: only the watch is retried


async def test_a_gzipped_watch_line_is_refused_once_it_inflates_past_the_limit():
    async with HostileServer(gzip_bomb) as server, httpx.AsyncClient() as http:
        async with running(WatchCache(KubeAPI(http, server.url), "pods", settings=FAST)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            assert cache.relisting == "a watch event over 1 MiB"
            assert list(cache.items) == [("shop", "web-1")]


async def test_a_watch_not_served_falls_back_to_periodic_lists():
    async with HostileServer(not_allowed) as server, httpx.AsyncClient() as http:
        async with running(WatchCache(KubeAPI(http, server.url), "pods", settings=FAST)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            assert cache.relisting == "watch not served"
            began = time.monotonic()
            await asyncio.sleep(2.0)
            lists = server.count("list")
    assert server.count("watch") == 1
    assert 2 <= lists <= 2 + (time.monotonic() - began) / FAST.min_relist


async def test_watches_that_end_at_once_without_an_event_back_off_then_give_way_to_lists():
    async with HostileServer(empty) as server, httpx.AsyncClient() as http:
        async with running(WatchCache(KubeAPI(http, server.url), "pods", settings=FAST)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            assert cache.relisting == "every watch ends early"
            began = time.monotonic()
            await asyncio.sleep(2.0)
            lists = server.count("list")
    # (Taking each clean end as normal, the cache watched again at once: thousands a minute.)
    assert server.count("watch") == FAST.quick_failures
    assert 2 <= lists <= 2 + (time.monotonic() - began) / FAST.min_relist


def test_a_gzip_bomb_line_is_refused_holding_no_more_than_the_limit():
    lines = EventLines("gzip", 1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(EventTooLarge):
            for _ in lines.feed(BOMB):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (1 << 20) + (2 << 20), peak  # the limit, a step of inflated output, the input left


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_event_lines_come_out_whole_whatever_the_chunks(encoding):
    events = [json.dumps({"type": "MODIFIED", "object": {"n": i, "pad": "y" * (i * 37 % 900)}}).encode()
              for i in range(300)]
    body = b"\n".join(events) + b"\n"
    if encoding:
        body = gzip.compress(body)
    rng = random.Random(5)
    lines = EventLines(encoding, 1 << 20)
    out, at = [], 0
    while at < len(body):
        step = rng.randint(1, 700)
        out += lines.feed(body[at:at + step])
        at += step
    out += lines.end()
    assert out == events


def test_an_encoding_not_asked_for_is_refused():
    with pytest.raises(Exception, match="not asked for"):
        EventLines("br", 1 << 20)
