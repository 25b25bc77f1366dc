"""LIST, then WATCH: a local copy of nodes, pods, or the metadata of the ReplicaSets and Jobs
that own pods, that the API server keeps current.

Re-listing 150,000 pods every refresh costs the control plane tens of
megabytes a time; a watch costs only the changes. The cache lists once,
then follows events from that resourceVersion; bookmarks move it forward
while nothing changes; a `410 Gone` (the server no longer has our version)
means list again.

A server that misbehaves must not turn this into a load on it. Every LIST
after a failed list-and-watch waits a backoff first (as client-go's
reflector: 0.8 s doubling to 30 s with jitter, starting over after two
minutes without a failure); other failures retry the watch after the same
backoff. When the watch cannot work (denied or not served, a stream that is
not watch events, an event over the size limit, no byte for longer than the
watch's own timeout, or every watch failing at once, such as a 410 right
after each LIST), the cache lists periodically instead, at a polite
interval, says why in `relisting`, and tries the watch again now and then.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from sys import intern
from typing import Any, Generic, TypeVar

import msgspec

from ktopui.kube.api import KubeAPI
from ktopui.kube.backoff import next_delay
from ktopui.kube.errors import APIError, KubeError, MalformedResponse, StreamSilent
from ktopui.kube.limits import size_text
from ktopui.kube.objects import (
    Node,
    ObjectMeta,
    PartialObjectMetadata,
    Pod,
    Status,
    decode,
)
from ktopui.kube.watch_lines import EventTooLarge

log = logging.getLogger("ktopui.watch")
T = TypeVar("T", Node, Pod, PartialObjectMetadata)
# Followed as metadata only: what owns a pod is all ktopui reads of them.
METADATA_ONLY = ("replicasets", "jobs")



@dataclass(frozen=True)
class WatchSettings:
    """How a WatchCache lists, watches and backs off."""

    # The timeout asked of each watch (up to half as much again, at random, so
    # many clients do not reconnect in step). Short, so that a watch gone
    # silent is noticed within about a minute and a half rather than client-go's
    # 5-10 minutes; a quiet watch that ends costs the server one cheap request.
    watch_seconds: int = 60
    # No byte for the watch's timeout plus this: the stream is broken, not quiet.
    silence_slack: float = 15.0
    retry_interval: float = 0.8  # the first backoff (client-go's reflector) ...
    retry_cap: float = 30.0  # ... doubling up to this
    backoff_reset: float = 120.0  # a failure this long after the last one starts the backoff over
    # Failed watches in a row, each before any event (410 right after a LIST,
    # an empty watch ended early), before the watch is given up for lists.
    quick_failures: int = 3
    # While the watch cannot work: a LIST every metrics resolution, never more
    # often than every `min_relist` seconds, nor than a second per
    # `objects_per_second` objects (a 150,000-pod LIST is tens of MB for the
    # server to build and send).
    min_relist: float = 15.0
    objects_per_second: float = 1000.0
    watch_retry: float = 300.0  # ... and the watch tried again this often
    max_event_bytes: int = 16 << 20  # client-go's limit on one watch event
    page_size: int = 5000  # objects per LIST page
    # ... of metadata-only lists: their managedFields make an object a few KB, and a
    # page must stay within the smallest answer's size limit (limits.FLOOR).
    metadata_page_size: int = 1000


def relist_interval(objects: int, resolution: float = 0.0, settings: WatchSettings | None = None) -> float:
    """Seconds between two LISTs of `objects` nodes or pods when they cannot be watched,
    with metrics every `resolution` seconds."""
    s = settings or WatchSettings()
    return max(s.min_relist, resolution, objects / s.objects_per_second)


class WatchEvent(msgspec.Struct):
    type: str
    object: msgspec.Raw


class _Versioned(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class Gone(Exception):
    """The server no longer has the resourceVersion we asked for: list again."""


class Unwatchable(Exception):
    """The watch cannot work against this server: list periodically instead."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # plain words for the header: "watch not allowed"
        self.detail = detail  # what exactly happened, for the log


class Backoff:
    """Seconds to wait after a failure: `initial` doubling up to `cap` with jitter,
    starting over once `reset_after` seconds pass without a failure (client-go's
    reflector uses 0.8 s, 30 s and 2 minutes)."""

    def __init__(self, initial: float, cap: float, reset_after: float) -> None:
        self.initial, self.cap, self.reset_after = initial, cap, reset_after
        self.steps = 0
        self._last = -float("inf")

    def next(self, retry_after: float | None = None) -> float:
        now = time.monotonic()
        if now - self._last > self.reset_after:
            self.steps = 0
        self.steps += 1
        self._last = now
        return next_delay(self.initial, self.steps, retry_after=retry_after, cap=self.cap)


class WatchCache(Generic[T]):
    """Nodes, pods, or ReplicaSets' or Jobs' metadata, by (namespace, name), kept current by one
    LIST and a WATCH (or, where the watch cannot work, by periodic LISTs)."""

    def __init__(
        self,
        api: KubeAPI,
        resource: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        settings: WatchSettings | None = None,
        transform: Callable[[T], Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if resource not in ("nodes", "pods", *METADATA_ONLY):
            raise ValueError(resource)
        self.api = api
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.settings = settings = settings or WatchSettings()
        self.item_kind = {"nodes": Node, "pods": Pod}.get(resource, PartialObjectMetadata)
        # What is kept of each object (e.g. a compact summary instead of the decoded pod).
        self.transform = transform
        self.clock = clock
        self.items: dict[tuple[str, str], Any] = {}
        self.resource_version = ""
        self.error: KubeError | None = None
        self.failures = 0
        self.lists = 0  # how many full LISTs were needed
        self.version = 0  # bumps on every change, so readers know when to rejoin
        # Why the cache lists periodically instead of watching ("" while watching).
        self.relisting = ""
        self.listed_at: float | None = None  # clock() time of the last complete LIST
        # clock() time the items were last known current: the last LIST, or the
        # moment a healthy watch failed.
        self.ok_at: float | None = None
        self.resolution = 0.0  # the metrics resolution, when the reader knows it (see relist_interval)
        # Keys added, changed or deleted since take_changes(); None after a full
        # LIST, when any key may have changed.
        self._touched: set[tuple[str, str]] | None = set()
        self.synced = asyncio.Event()
        self._backoff = Backoff(settings.retry_interval, settings.retry_cap, settings.backoff_reset)
        self._quick_failures = 0  # watches in a row that failed before any event
        self._next_list = 0.0  # monotonic time of the next LIST while relisting
        self._next_watch_try = 0.0  # ... and of the next try of the watch

    @property
    def relist_interval(self) -> float:
        """Seconds between LISTs while the watch cannot work."""
        return relist_interval(len(self.items), self.resolution, self.settings)

    def values(self) -> list[Any]:
        return list(self.items.values())

    def take_changes(self) -> set[tuple[str, str]] | None:
        """The keys touched since the last call (None: a LIST came, compare everything)."""
        touched, self._touched = self._touched, set()
        return touched

    async def settled(self, timeout: float) -> None:
        """Wait until the first list is in or the cache has failed, for at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while not self.synced.is_set() and self.error is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        """Keep the cache current until cancelled."""
        while True:
            try:
                if self.relisting:
                    await self._relist()
                else:
                    await self._list_and_watch()
            except Gone:
                log.info("%s: resourceVersion %s expired; listing again", self.resource, self.resource_version)
                self.resource_version = ""
                await asyncio.sleep(self._backoff.next())
            except Unwatchable as err:
                self._relist_instead(err)
            except KubeError as err:
                self._failed(err)
                await asyncio.sleep(self._backoff.next(getattr(err, "retry_after", None)))
            except Exception as err:  # a bug must not silently freeze the cache: say so, retry
                log.exception("%s watch failed unexpectedly", self.resource)
                self._failed(KubeError(f"internal error while watching {self.resource}: {err!r}"))
                await asyncio.sleep(self._backoff.next())

    async def _list_and_watch(self) -> None:
        if not self.resource_version:
            await self._list()
        while True:
            began, seconds = time.monotonic(), self._watch_seconds()
            try:
                applied = await self._watch(seconds)
            except Gone:
                self._quick_failure("every watch expires at once", "410 Gone right after each LIST")
                raise
            if not applied and time.monotonic() - began < seconds / 2:
                # Ended well before its timeout without a thing (client-go: a "very short watch").
                self._quick_failure("every watch ends early", "ended before half its timeout without an event")
                log.info("%s: the watch ended after %.1fs without an event", self.resource,
                         time.monotonic() - began)
                await asyncio.sleep(self._backoff.next())

    def _quick_failure(self, reason: str, how: str) -> None:
        """A watch failed before any event: after a few in a row, the watch is given up."""
        self._quick_failures += 1
        if self._quick_failures >= self.settings.quick_failures:
            self._quick_failures = 0
            raise Unwatchable(reason, f"{self.settings.quick_failures} watches of {self.resource} in a row: {how}")

    async def _relist(self) -> None:
        """While the watch cannot work: wait out the interval since the last LIST
        (trying the watch instead, now and then), then list."""
        wait = self._next_list - time.monotonic()
        if wait > 0 and time.monotonic() >= self._next_watch_try:
            self._next_watch_try = time.monotonic() + self.settings.watch_retry
            try:
                # A watch that times out when the next LIST is due: if it delivers an
                # event or a bookmark, the cache is watching again (see _healthy).
                await self._watch(max(1, round(wait)))
            except (Gone, Unwatchable, KubeError) as err:
                if not self.relisting:
                    raise  # it worked, then failed: as any watch that fails
                log.info("%s: the watch still fails (%s); listing every %gs", self.resource, err,
                         self.relist_interval)
            if not self.relisting:
                return
            wait = self._next_list - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await self._list()

    def _relist_instead(self, err: Unwatchable) -> None:
        if err.reason != self.relisting:
            log.warning("%s: %s (%s); listing every %gs instead of watching", self.resource, err.reason,
                        err.detail, self.relist_interval)
        self.relisting = err.reason
        # The next LIST comes an interval after the last one (at once if that is past).
        self._next_watch_try = time.monotonic() + self.settings.watch_retry
        self.error, self.failures = None, 0

    def _watch_seconds(self) -> int:
        return max(1, int(self.settings.watch_seconds * (1 + random.random() / 2)))

    def _failed(self, err: KubeError) -> None:
        if self.failures == 0 or str(err) != str(self.error):
            log.warning("%s watch: %s: %s", self.resource, type(err).__name__, err)
        if self.error is None and self.synced.is_set() and not self.relisting:
            self.ok_at = self.clock()  # the watch was healthy until now
        self.error = err
        self.failures += 1

    async def _list(self) -> None:
        # In pages, as client-go's reflector does: the server builds a page at
        # a time, and only one page of decoded objects is alive at once (a
        # single 150,000-pod answer decodes to ~400 MB before it is summarised).
        items: dict[tuple[str, str], Any] = {}
        transform = self.transform
        token = ""
        limit = self.settings.page_size
        while True:
            try:
                if self.resource == "pods":
                    found = await self.api.list_pods(namespace=self.namespace, label_selector=self.label_selector,
                                                     limit=limit, continue_=token)
                elif self.resource in METADATA_ONLY:
                    found = await self.api.list_metadata(self.resource, namespace=self.namespace,
                                                         label_selector=self.label_selector,
                                                         limit=limit and self.settings.metadata_page_size,
                                                         continue_=token)
                else:
                    found = await self.api.list_nodes(label_selector=self.label_selector, limit=limit,
                                                      continue_=token)
            except APIError as err:
                if token and err.status == 410:
                    # The continue token expired (the cluster changed faster than we
                    # paged): like client-go's pager, take the whole list in one answer.
                    log.info("%s: list continue token expired; listing again in one request", self.resource)
                    items, token, limit = {}, "", 0
                    continue
                raise
            for o in found.items:
                items[(intern(o.metadata.namespace), intern(o.metadata.name))] = o if transform is None else transform(o)
            token = found.metadata.continue_
            if not token:
                break
            del found
        self.items = items
        self._touched = None
        self.resource_version = found.metadata.resourceVersion
        self.lists += 1
        self.ok_at = self.listed_at = self.clock()
        self._next_list = time.monotonic() + self.relist_interval
        # What is shown is current now; the backoff, though, starts over only
        # after a quiet spell (a LIST that works says nothing about the watch).
        if self.failures:
            log.info("%s: listed after %d failures", self.resource, self.failures)
        self.error, self.failures = None, 0
        self.synced.set()
        self.version += 1

    def _healthy(self) -> None:
        """A valid event or bookmark came: the watch works."""
        if self.failures or self.relisting:
            log.info("%s watch: working again%s", self.resource,
                     f" after {self.failures} failures" if self.failures else "; no more periodic lists")
            self.error, self.failures, self.relisting = None, 0, ""
        self._quick_failures = 0

    async def _watch(self, seconds: int) -> int:
        """Follow one watch until the server ends it; returns how many events and bookmarks it applied."""
        applied = 0
        try:
            async with self.api.watch(
                self.resource, namespace=self.namespace,
                label_selector=self.label_selector, resource_version=self.resource_version, seconds=seconds,
                silence=seconds + self.settings.silence_slack, max_event_bytes=self.settings.max_event_bytes,
            ) as stream:
                refused = stream.refused
                if refused is not None:
                    status = refused.status if isinstance(refused, APIError) else 0
                    if status == 410:
                        raise Gone
                    if status in (403, 405):
                        raise Unwatchable("watch not allowed" if status == 403 else "watch not served", refused.message)
                    raise refused
                async for line in stream.lines():
                    if line and not line.isspace():
                        self._apply(line)
                        applied += 1
        except StreamSilent as err:
            raise Unwatchable("the watch went silent", err.message) from None
        except EventTooLarge as err:
            raise Unwatchable(f"a watch event over {size_text(self.settings.max_event_bytes)}", err.message) from None
        except MalformedResponse as err:
            raise Unwatchable("the watch stream is unreadable", err.message) from None
        return applied

    def _apply(self, line: bytes) -> None:
        event = decode(line, WatchEvent, what=f"watch {self.resource}")
        if event.type == "ERROR":
            status = decode(event.object, Status, what=f"watch {self.resource}")
            if status.code == 410:
                raise Gone
            raise APIError(f"the watch of {self.resource} ended with an error: {status.message or status.reason}",
                           status=status.code, reason=status.reason)
        if event.type == "BOOKMARK":
            self.resource_version = decode(event.object, _Versioned).metadata.resourceVersion
            self._healthy()
            return
        if event.type not in ("ADDED", "MODIFIED", "DELETED"):
            raise MalformedResponse(f"watch {self.resource}: unknown event type {event.type!r}")
        obj = decode(event.object, self.item_kind, what=f"watch {self.resource}")
        key = (intern(obj.metadata.namespace), intern(obj.metadata.name))
        if self._touched is not None:
            self._touched.add(key)
        if event.type == "DELETED":
            self.items.pop(key, None)
        else:
            self.items[key] = obj if self.transform is None else self.transform(obj)
        self.resource_version = obj.metadata.resourceVersion or self.resource_version
        self._healthy()
        self.version += 1
