"""A scripted Prometheus HTTP API on 127.0.0.1 (plain asyncio): answers what a test's `reply` says,
well or badly, and keeps the requests it saw (method, path, form)."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.parse
from typing import Self


class Recorder:
    """A server answering each request with `reply(method, path, form)` -> (status, headers, body),
    keeping the requests (method, path, form) it saw."""

    def __init__(self, reply) -> None:
        self.reply = reply
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.in_flight = 0
        self.most_in_flight = 0


async def _serve(recorder: Recorder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path, _, query = target.partition("?")
        form = dict(urllib.parse.parse_qsl(query or body.decode()))
        recorder.seen.append((method, path, form))
        recorder.in_flight += 1
        recorder.most_in_flight = max(recorder.most_in_flight, recorder.in_flight)
        try:
            answer = await recorder.reply(method, path, form, headers)
        finally:
            recorder.in_flight -= 1
        if callable(answer):  # a raw writer for misbehaviour
            await answer(writer)
            return
        status, extra, payload = answer
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        head_out = f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n"
        head_out += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        writer.write(head_out.encode() + b"\r\n" + payload)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class Engine:
    """A scripted Prometheus API on 127.0.0.1 (over TLS with `tls`, a server-side SSLContext)."""

    def __init__(self, reply, tls: ssl.SSLContext | None = None) -> None:
        self.recorder = Recorder(reply)
        self.server: asyncio.Server | None = None
        self.tls = tls

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(lambda r, w: _serve(self.recorder, r, w), "127.0.0.1", 0,
                                                 ssl=self.tls)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    @property
    def seen(self):
        return self.recorder.seen


def matrix(*series, warnings=None):
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t, v] for t, v in points]} for labels, points in series]}}
    if warnings:
        answer["warnings"] = warnings
    return answer


JSON = {"Content-Type": "application/json"}


def fixed(status, body, headers=JSON):
    async def reply(method, path, form, headers_in):
        return status, headers, body
    return reply


