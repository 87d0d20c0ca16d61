"""uvicorn, tuned for the router: one send per response instead of two.

uvicorn writes a response's head and body with two ``transport.write`` calls,
and uvloop sends each at once, so every small response costs two syscalls and
wakes the client twice. The router's protocol hands uvicorn a transport that
gathers the writes made in one turn of the event loop and sends them together
at the end of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _GatheringTransport:
    __slots__ = ("_transport", "_loop", "_pending", "_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes) -> None:
        if self._pending:
            # The body (or its first piece) after a held head: send both at once.
            self._pending.append(data)
            self._flush()
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n"):
            # A response head: hold it for the body that follows in the same turn.
            self._pending.append(data)
            if not self._scheduled:
                self._scheduled = True
                self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        self._scheduled = False
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RouterProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with gathered writes."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(_GatheringTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]
