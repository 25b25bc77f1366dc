"""An answer's body, inflated a bounded piece at a time.

httpx inflates each network read whole: 64 KiB of a gzip bomb becomes about
64 MiB in one call, before any size limit can look at it. Reading the raw
bytes and inflating them here with zlib's `max_length` keeps every piece
small, so a limit on the body is also a limit on memory.

ktopui asks for gzip only (what the API server sends, as client-go asks for
it); an answer in another encoding is refused rather than guessed at.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

from ktopui.kube.errors import MalformedResponse

ACCEPT_ENCODING = "gzip"
PIECE = 256 * 1024  # bytes of inflated body per piece


async def pieces(response: httpx.Response, what: str, piece: int = PIECE) -> AsyncIterator[bytes]:
    """The body of `response`, decoded, in pieces of at most `piece` bytes."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        async for chunk in response.aiter_raw():
            for start in range(0, len(chunk), piece):
                yield chunk[start:start + piece]
        return
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj(zlib.MAX_WBITS)
    else:
        raise MalformedResponse(f"the answer to {what} came in content-encoding {encoding!r}, "
                                f"which ktopui did not ask for ({ACCEPT_ENCODING} only)")
    try:
        async for chunk in response.aiter_raw():
            data = chunk
            while data and not inflater.eof:
                out = inflater.decompress(data, piece)
                data = inflater.unconsumed_tail
                if out:
                    yield out
        # All input given: what is left is bounded by zlib's window, not by the body.
        if rest := inflater.flush():
            yield rest
    except zlib.error as err:
        raise MalformedResponse(f"the answer to {what} is not valid {encoding}: {err}") from None
