"""A feed fed by hand: a session that shows what a test gives it, with no server."""

from __future__ import annotations

import asyncio

from ktopui.kube.errors import Forbidden, KubeError
from ktopui.live.feed import Inputs, Scope


class HandFed:
    """The Feed of a ClusterSession that has no cluster: it collects the Inputs put in it."""

    def __init__(self) -> None:
        self.inputs: asyncio.Queue[Inputs] = asyncio.Queue()
        self.scope = Scope()

    async def collect(self) -> Inputs:
        return await self.inputs.get()

    def set_scope(self, scope: Scope) -> None:
        self.scope = scope

    def pod_metrics_unreadable(self, error: KubeError) -> None:
        raise AssertionError(f"a hand-made pod metrics list was unreadable: {error}")

    async def server_version(self) -> str:
        return "v1.33.1"

    async def namespaces(self) -> list[str]:
        raise Forbidden("namespaces are not listed here", verb="list", resource="namespaces", status=403)

    async def close(self) -> None:
        pass
