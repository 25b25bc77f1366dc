"""What the feed follows beside nodes and pods: the owners' metadata and the quotas.

The ReplicaSets' and Jobs' controllers come from metadata-only watches (the
joiner follows a pod's controller through them to its workload); the
ResourceQuotas are listed once a minute. Either may be refused (403), not
served (404, 405) or not served as metadata (406): the views then do without
(workloads inferred from pod labels and Job names, quota cells blank), a
notice says what is missing and why, and the list is asked for again only
after a while, never in a loop.

`ApiFeed` composes one `OwnersAndQuotas` per feed: it starts the watches
(`watch`), waits for them with its own lists (`settle`), and hands on what
they hold (`follow`, `quotas`, `notices`) in each refresh's Inputs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ktopui.kube.api import KubeAPI, qualified
from ktopui.kube.errors import APIError, KubeError
from ktopui.kube.objects import ResourceQuota
from ktopui.kube.watch import METADATA_ONLY, WatchCache, WatchSettings
from ktopui.live.watches import Watches
from ktopui.model.owners import OwnerMap, controller_of

log = logging.getLogger("ktopui.live")
# ResourceQuotas are listed this often: they are few and change as pods come and go,
# so a watch would stream an event per pod change for numbers read once a minute.
QUOTAS_EVERY = 60.0
# A list ktopui may not read (403), that is not served (404, 405) or not as asked (406)
# is tried again this rarely (as a watch that cannot work is).
UNREADABLE_RETRY = 300.0
_UNREADABLE = (403, 404, 405, 406)
# How the header names what a refused list costs.
_WITHOUT = {
    "replicasets": "Deployments inferred from pod labels",
    "jobs": "CronJobs inferred from Job names",
}


class OwnersAndQuotas:
    """The ReplicaSets' and Jobs' controllers and the ResourceQuotas of one namespace
    ("" for all: the pods' label selector is not theirs)."""

    def __init__(self, api: KubeAPI, namespace: str = "", *, clock: Callable[[], float],
                 watch: WatchSettings) -> None:
        self.api = api
        self.namespace = namespace
        self.clock = clock
        self.watch_settings = watch
        self._watches = Watches()
        # The owners of ReplicaSets and Jobs, as last handed out, with the cache
        # version they were taken at; and why a source cannot be read, until when.
        self._owners: dict[str, tuple[int, OwnerMap]] = {}
        self._unreadable: dict[str, tuple[str, float]] = {}
        self.quotas: list[ResourceQuota] | None = None  # None: not listed (yet), or not readable
        self._quotas_due = 0.0  # monotonic time of the next quota list
        self.quota_lists = 0  # for tests

    def set_namespace(self, namespace: str) -> None:
        """Follow this namespace from now on: the owners are watched anew, the quotas listed
        anew, and what may be read there is asked again."""
        self.namespace = namespace
        for source in METADATA_ONLY:
            self._watches.stop(source)
            self._owners.pop(source, None)
        self.quotas, self._quotas_due = None, 0.0
        self._unreadable.clear()

    def watch(self) -> dict[str, WatchCache]:
        """The owners' caches to follow this refresh, started where they are not running yet;
        a source refused lately has none (it is not asked for again for a while)."""
        return {source: self._watch(source) for source in METADATA_ONLY if not self._refused(source)}

    async def settle(self, caches: dict[str, WatchCache], first_wait: float) -> None:
        """Wait for the first list of each cache whose owners were never handed out (for at
        most `first_wait` s: the workloads are inferred meanwhile), and list the quotas if due."""
        await asyncio.gather(
            *(cache.settled(first_wait if source not in self._owners else 0) for source, cache in caches.items()),
            self._list_quotas(),
        )

    def follow(self, caches: dict[str, WatchCache]) -> dict[str, OwnerMap | None]:
        """The ReplicaSets' and Jobs' controllers as their caches hold them now. A source that
        cannot be read is left alone for a while (its cache stopped, not retried in a loop)."""
        owners: dict[str, OwnerMap | None] = dict.fromkeys(METADATA_ONLY)
        for source, cache in caches.items():
            error = cache.error
            if isinstance(error, APIError) and error.status in _UNREADABLE:
                log.warning("%s: %s; %s, tried again in %.0fs", source, error, _WITHOUT[source], UNREADABLE_RETRY)
                self._watches.stop(source)
                self._owners.pop(source, None)
                notice = f"{_WITHOUT[source]}: {qualified(source)} {_refusal(error.status)}"
                self._unreadable[source] = (notice, time.monotonic() + UNREADABLE_RETRY)
                owners[source] = None
                continue
            if not cache.synced.is_set():
                owners[source] = None
                continue
            self._unreadable.pop(source, None)
            kept = self._owners.get(source)
            if kept is None or kept[0] != cache.version:
                # Most events are status changes: the same controllers, the same map
                # (the joiner's resolutions then stand).
                items = dict(cache.items)
                kept = (cache.version, kept[1] if kept is not None and kept[1] == items else items)
                self._owners[source] = kept
            owners[source] = kept[1]
        return owners

    def notices(self) -> tuple[str, ...]:
        """What the views lack because a list was refused, and why."""
        return tuple(notice for _, (notice, _) in sorted(self._unreadable.items()))

    async def close(self) -> None:
        await self._watches.close()

    def _watch(self, source: str) -> WatchCache:
        return self._watches.start(source, lambda: WatchCache(
            self.api, source, namespace=self.namespace, settings=self.watch_settings, transform=_controller,
            clock=self.clock))

    def _refused(self, source: str) -> bool:
        """Whether `source` was refused lately (it is then not asked for again for a while)."""
        refused = self._unreadable.get(source)
        return refused is not None and time.monotonic() < refused[1]

    async def _list_quotas(self) -> None:
        """The ResourceQuotas, once a minute (rarely where they may not be read)."""
        if time.monotonic() < self._quotas_due:
            return
        self._quotas_due = time.monotonic() + QUOTAS_EVERY
        self.quota_lists += 1
        try:
            self.quotas = (await self.api.list_resource_quotas(namespace=self.namespace)).items
        except APIError as err:
            if err.status not in _UNREADABLE:
                log.warning("resource quotas: %s", err)
                return  # (the last list stands)
            log.warning("resource quotas: %s; tried again in %.0fs", err, UNREADABLE_RETRY)
            self.quotas = None
            self._quotas_due = time.monotonic() + UNREADABLE_RETRY
            self._unreadable["resourcequotas"] = (f"quotas not shown: resourcequotas {_refusal(err.status)}",
                                                  self._quotas_due)
        except KubeError as err:
            log.warning("resource quotas: %s", err)
        else:
            self._unreadable.pop("resourcequotas", None)


def _controller(obj) -> object:
    return controller_of(obj.metadata)


def _refusal(status: int) -> str:
    return {403: "may not be listed", 406: "not served as metadata"}.get(status, "not served")
