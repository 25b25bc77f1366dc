"""A plain-HTTP server on 127.0.0.1 that answers every request with what a test scripts.

For misbehaviour the simulated cluster has no switch for: the test's `answer`
coroutine gets the request head and the writer, and writes whatever it likes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []  # each request's head, as received
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.requests.append(head)
            await self.answer(head, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: what the tests expect it to do
        finally:
            writer.close()


def kubeconfig_for(url: str, path, *, token: str = "hostile-token", extra_user: str = "") -> str:
    """A kubeconfig whose only context points at `url` (plain http: no credentials are sent)."""
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: hostile\n"
        f"clusters:\n- name: hostile\n  cluster:\n    server: {url}\n"
        f"users:\n- name: someone\n  user:\n    token: {token}\n{extra_user}"
        "contexts:\n- name: hostile\n  context:\n    cluster: hostile\n    user: someone\n"
    )
    return str(path)
