"""A lock for coroutines on any event loop, in any thread.

Credentials are shared by everything that talks to the cluster, including the
dashboard's doctor, which runs in a thread with an event loop of its own (so
that none of its work stalls the screen). An asyncio.Lock belongs to one loop;
this one does not. Waiters poll: it is held only while a credential plugin or
an OIDC refresh runs, and two of those must not run at once.
"""

from __future__ import annotations

import asyncio
import threading

POLL = 0.01  # seconds between a waiter's tries


class SharedLock:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    async def __aenter__(self) -> None:
        while not self._lock.acquire(blocking=False):
            await asyncio.sleep(POLL)

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
