"""A Prometheus that misbehaves: a plain HTTP server on loopback answering as it is told."""

from __future__ import annotations

import asyncio


class Hostile:
    """A Prometheus-shaped HTTP server on loopback that answers every request the same way."""

    def __init__(self, status: int, body: bytes, *, delay: float = 0.0,
                 instant: tuple[int, bytes] | None = None) -> None:
        """`instant`: how instant queries (/api/v1/query) are answered instead, if otherwise."""
        self.status, self.body, self.delay, self.instant = status, body, delay, instant
        self.requests = 0
        self.paths: list[str] = []

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            self.requests += 1
            path = head.split(b" ")[1].split(b"?")[0].decode()
            self.paths.append(path)
            status, body = self.instant if self.instant and path.endswith("/api/v1/query") else (self.status, self.body)
            await asyncio.sleep(self.delay)
            writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (status, len(body), body))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
