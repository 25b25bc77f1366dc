"""LIST, then WATCH: a local copy of nodes or pods that the API server keeps current.

Re-listing 150,000 pods every refresh costs the control plane tens of
megabytes a time; a watch costs only the changes. The cache lists once,
then follows events from that resourceVersion; bookmarks move it forward
while nothing changes; a `410 Gone` (the server no longer has our version)
means list again; any other failure reconnects with capped backoff.
"""

from __future__ import annotations

import asyncio
import logging
from sys import intern
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from ktopui.kube.api import KubeAPI, Target, status_error, transport_error
from ktopui.kube.errors import APIError, KubeError, MalformedResponse
from ktopui.kube.objects import Node, ObjectMeta, Pod, Status, decode
from ktopui.kube.backoff import next_delay

log = logging.getLogger("ktopui.watch")
T = TypeVar("T", Node, Pod)

WATCH_SECONDS = 300  # the server ends a watch after this; we resume from the last version
PAGE_SIZE = 5000  # objects per LIST page


class WatchEvent(msgspec.Struct):
    type: str
    object: msgspec.Raw


class _Versioned(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class Gone(Exception):
    """The server no longer has the resourceVersion we asked for: list again."""


class WatchCache(Generic[T]):
    """Nodes or pods, by (namespace, name), kept current by one LIST and a WATCH."""

    def __init__(
        self,
        api: KubeAPI,
        resource: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        watch_seconds: int = WATCH_SECONDS,
        retry_interval: float = 1.0,
        page_size: int = PAGE_SIZE,
        transform: Callable[[T], Any] | None = None,
    ) -> None:
        if resource not in ("nodes", "pods"):
            raise ValueError(resource)
        self.api = api
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.watch_seconds = watch_seconds
        self.retry_interval = retry_interval
        self.page_size = page_size
        self.item_kind = Node if resource == "nodes" else Pod
        # What is kept of each object (e.g. a compact summary instead of the decoded pod).
        self.transform = transform
        self.items: dict[tuple[str, str], Any] = {}
        self.resource_version = ""
        self.error: KubeError | None = None
        self.failures = 0
        self.lists = 0  # how many full LISTs were needed
        self.version = 0  # bumps on every change, so readers know when to rejoin
        # Keys added, changed or deleted since take_changes(); None after a full
        # LIST, when any key may have changed.
        self._touched: set[tuple[str, str]] | None = set()
        self.synced = asyncio.Event()
        self.on_change: Callable[[], None] | None = None

    @property
    def path(self) -> str:
        if self.resource == "pods" and self.namespace:
            return f"/api/v1/namespaces/{self.namespace}/pods"
        return f"/api/v1/{self.resource}"

    def values(self) -> list[Any]:
        return list(self.items.values())

    def take_changes(self) -> set[tuple[str, str]] | None:
        """The keys touched since the last call (None: a LIST came, compare everything)."""
        touched, self._touched = self._touched, set()
        return touched

    async def run(self) -> None:
        """Keep the cache current until cancelled."""
        while True:
            try:
                if not self.resource_version:
                    await self._list()
                await self._watch()
            except Gone:
                log.info("%s: resourceVersion %s expired; listing again", self.resource, self.resource_version)
                self.resource_version = ""
            except KubeError as err:
                self._failed(err)
                await asyncio.sleep(next_delay(self.retry_interval, self.failures, retry_after=getattr(err, "retry_after", None)))
            except Exception as err:  # a bug must not silently freeze the cache: say so, retry
                log.exception("%s watch failed unexpectedly", self.resource)
                self._failed(KubeError(f"internal error while watching {self.resource}: {err!r}"))
                await asyncio.sleep(next_delay(self.retry_interval, self.failures))

    def _failed(self, err: KubeError) -> None:
        if self.failures == 0 or str(err) != str(self.error):
            log.warning("%s watch: %s: %s", self.resource, type(err).__name__, err)
        self.error = err
        self.failures += 1
        self._changed(data=False)

    def _changed(self, *, data: bool = True) -> None:
        if data:
            self.version += 1
        if self.on_change is not None:
            self.on_change()

    async def _list(self) -> None:
        # In pages, as client-go's reflector does: the server builds a page at
        # a time, and only one page of decoded objects is alive at once (a
        # single 150,000-pod answer decodes to ~400 MB before it is summarised).
        items: dict[tuple[str, str], Any] = {}
        transform = self.transform
        token = ""
        limit = self.page_size
        while True:
            try:
                if self.resource == "pods":
                    found = await self.api.list_pods(namespace=self.namespace, label_selector=self.label_selector,
                                                     limit=limit, continue_=token)
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
        self._healthy()
        self.synced.set()
        self._changed()

    def _healthy(self) -> None:
        if self.failures:
            log.info("%s watch: recovered after %d failures", self.resource, self.failures)
        self.error, self.failures = None, 0

    async def _watch(self) -> None:
        target = Target("watch", self.resource, self.namespace)
        params = {
            "watch": "1",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self.watch_seconds),
        }
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        # Idle watches are normal: only the server's own timeout ends one.
        timeout = httpx.Timeout(30.0, read=self.watch_seconds + 60.0)
        try:
            async with self.api.http.stream(
                "GET", self.api.server + self.path, params=params,
                headers={"Accept": "application/json"}, timeout=timeout,
            ) as response:
                if response.status_code == 410:
                    raise Gone
                if response.status_code >= 400:
                    await response.aread()
                    raise status_error(response, target)
                self._healthy()
                async for line in response.aiter_lines():
                    if line.strip():
                        self._apply(line.encode())
        except httpx.HTTPError as err:
            raise transport_error(err, self.api.server, target) from None

    def _apply(self, line: bytes) -> None:
        event = decode(line, WatchEvent, what=f"watch {self.resource}")
        if event.type == "ERROR":
            status = decode(event.object, Status, what=f"watch {self.resource}")
            if status.code == 410:
                raise Gone
            raise MalformedResponse(f"watch {self.resource} ended with an error: {status.message or status.reason}")
        if event.type == "BOOKMARK":
            self.resource_version = decode(event.object, _Versioned).metadata.resourceVersion
            return
        obj = decode(event.object, self.item_kind, what=f"watch {self.resource}")
        key = (intern(obj.metadata.namespace), intern(obj.metadata.name))
        if self._touched is not None:
            self._touched.add(key)
        if event.type == "DELETED":
            self.items.pop(key, None)
        elif event.type in ("ADDED", "MODIFIED"):
            self.items[key] = obj if self.transform is None else self.transform(obj)
        else:
            raise MalformedResponse(f"watch {self.resource}: unknown event type {event.type!r}")
        self.resource_version = obj.metadata.resourceVersion or self.resource_version
        self._changed()
