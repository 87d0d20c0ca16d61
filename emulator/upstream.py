"""The router's HTTP/1.1 client to one Cloud Functions instance.

Owns the keep-alive connections to a single ``host:port`` (a functions-framework
process: gunicorn's gthread worker, which drops a keep-alive connection idle for
2 s), request framing, response parsing and flow control in both directions.
It sits on the proxy's hot path, so it is an ``asyncio.Protocol`` driving
``httptools.HttpResponseParser`` directly, on whatever loop runs it (uvloop
under uvicorn). Errors leave it as one type, ``UpstreamError``.

Contract
--------
``Upstream(host, port, idle_timeout=1.5)``
    Keep-alive connections to one instance: idle ones are kept LIFO, and one
    idle longer than ``idle_timeout`` is closed instead of reused.

``await upstream.request(method, target, headers, body) -> Response``
    Sends one request and returns once the response head has arrived.
    ``target`` is the path and query, sent as given (``str`` is encoded as
    latin-1, ``bytes`` go out verbatim). ``headers`` go out as given, less the
    hop-by-hop ones (and any the ``Connection`` header names) and
    ``content-length`` (framing is the client's); ``host`` is added, as
    ``host:port``, only when missing. A ``bytes`` body is sent with
    ``content-length`` in the same write as the head (an empty one to GET, HEAD,
    DELETE, OPTIONS or TRACE goes without); an async iterator of
    ``bytes`` is sent chunked, each piece as it comes. Interim 1xx responses are
    skipped. If a reused connection dies before any response byte arrives (the
    instance closed it meanwhile) and the body is ``bytes``, the request is
    retried once on a fresh connection. Raises ``UpstreamError`` when it cannot
    connect or the connection fails before the head; an exception raised by the
    body iterator before the head propagates as is. Cancelling it closes the
    connection.

``upstream.close()``
    Closes every connection, idle or busy; later requests raise ``UpstreamError``.

``Response``
    ``status``; ``headers`` as received with names in lower case (ASGI's
    spelling) and hop-by-hop headers removed; ``body()`` yields the body in
    pieces as they arrive; ``read()`` returns all of it; ``abort()`` closes the
    connection, never to be reused. Every response must be read to the end or
    aborted: until then its connection is held. The connection goes back to the
    pool as soon as the message is complete and keep-alive holds (HTTP/1.1, no
    ``Connection: close``, request fully sent), even if the body is still
    buffered here. ``body()`` raises ``UpstreamError`` if the connection dies
    mid-body; leaving ``body()`` early aborts.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import time
from typing import AsyncIterator

from httptools import HttpParserError, HttpResponseParser

from emulator.errors import EmuError

# RFC 9110 §7.6.1 plus the proxy-* ones: meaningful for one connection only.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
# Methods whose empty request goes without content-length (RFC 9110 §8.6: a client
# does not send one when the method anticipates no content).
_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
# Reading pauses while a slow consumer leaves this much unread, and resumes below the low mark.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
# Smaller bytes bodies are joined to the head; larger ones go out as a second buffer
# in the same writelines (a writev on uvloop) rather than being copied.
_JOIN_LIMIT = 64 * 1024


class UpstreamError(EmuError):
    """Could not connect to the instance, or the connection failed before the response was whole."""


class _Gone(Exception):
    """The connection closed before any byte of the response arrived."""


class Response:
    """One response from an instance; its body is buffered here as it arrives."""

    __slots__ = ("status", "headers", "_conn", "_chunks", "_buffered", "_done", "_error", "_waiter")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], conn: _Connection) -> None:
        self.status = status
        self.headers = headers
        # Set while the message is incoming; the connection detaches itself at the end.
        self._conn: _Connection | None = conn
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._done = False
        self._error: UpstreamError | None = None
        self._waiter: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        state = "failed" if self._error else "complete" if self._done else "incoming"
        return f"<Response {self.status} [{state}, {self._buffered} bytes buffered]>"

    async def body(self) -> AsyncIterator[bytes]:
        chunks = self._chunks
        try:
            while True:
                if chunks:
                    chunk = chunks.popleft()
                    self._buffered -= len(chunk)
                    if self._conn is not None and self._buffered <= _LOW_WATER:
                        self._conn.resume_reading()
                    yield chunk
                elif self._error is not None:
                    raise self._error
                elif self._done:
                    return
                else:
                    self._waiter = asyncio.get_running_loop().create_future()
                    try:
                        await self._waiter
                    finally:
                        self._waiter = None
        finally:
            # Left early (break, cancel, aclose): the rest of the message is unwanted.
            if not self._done:
                self.abort()

    async def read(self) -> bytes:
        if self._done and self._error is None:
            # The usual small response arrived whole with its head: no await needed.
            data = b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            return data
        return b"".join([chunk async for chunk in self.body()])

    def abort(self) -> None:
        if self._conn is not None:
            self._conn.abort()

    def _feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        self._wake()

    def _finish(self, error: UpstreamError | None = None) -> None:
        self._conn = None
        self._done = True
        self._error = error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Connection(asyncio.Protocol):
    """One TCP connection: one exchange at a time, then back to the pool or closed."""

    def __init__(self, upstream: Upstream, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.idle_since = 0.0
        self._upstream = upstream
        # Set by connection_made, before anything else can see this object.
        self._transport: asyncio.Transport = None  # type: ignore[assignment]
        self._parser = HttpResponseParser(self)
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._drained: asyncio.Future[None] | None = None
        # The current exchange.
        self._busy = False
        self._head: asyncio.Future[Response] | None = None
        self._response: Response | None = None
        self._writer: asyncio.Task[None] | None = None
        self._request_sent = True
        self._is_head = False
        self._got_bytes = False
        self._interim = False
        # The current response head, gathered by the parser callbacks.
        self._headers: list[tuple[bytes, bytes]] = []
        self._connection_tokens = b""
        self._chunked = False
        self._has_length = False
        self._until_close = False
        self._keep_alive = True

    def is_usable(self) -> bool:
        return not self._closed and not self._transport.is_closing()

    async def exchange(self, head: bytes, body: bytes | AsyncIterator[bytes], is_head: bool) -> Response:
        if not self.is_usable():
            raise _Gone  # a fresh connection the instance closed before it was used
        self._busy = True
        self._head = future = self.loop.create_future()
        self._is_head = is_head
        self._got_bytes = False
        transport = self._transport
        if isinstance(body, bytes):
            self._request_sent = True
            if len(body) <= _JOIN_LIMIT:
                transport.write(head + body)
            else:
                transport.writelines((head, body))
        else:
            self._request_sent = False
            self._writer = self.loop.create_task(self._send_chunked(head, body))
        try:
            return await future
        except BaseException:
            # Cancelled, or failed: what is left on this connection is unknown. Unless
            # the message completed meanwhile and the connection went on to another request.
            if self._head is future:
                self.abort()
            raise

    async def _send_chunked(self, head: bytes, body: AsyncIterator[bytes]) -> None:
        transport = self._transport
        pending = head  # rides along with the first piece: one packet fewer
        try:
            async for chunk in body:
                if transport.is_closing():
                    return
                if not chunk:
                    continue  # an empty chunk would end the body
                transport.writelines((pending, b"%x\r\n" % len(chunk), chunk, b"\r\n"))
                pending = b""
                if self._writing_paused:
                    await self._drain()
            if transport.is_closing():
                return
            transport.write(pending + b"0\r\n\r\n")
            self._request_sent = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the body iterator failed: the request cannot be completed
            self._fail(exc)
            self.close()

    async def _drain(self) -> None:
        self._drained = self.loop.create_future()
        try:
            await self._drained
        finally:
            self._drained = None

    def resume_reading(self) -> None:
        if self._reading_paused and not self._closed:
            self._reading_paused = False
            self._transport.resume_reading()

    def abort(self) -> None:
        """Close now, failing whatever is in flight; the connection is never reused."""
        self._fail(UpstreamError(f"{self._upstream.address}: connection aborted"))
        self.close(abort=True)

    def close(self, abort: bool = False) -> None:
        if self._writer is not None and not self._writer.done() and self._writer is not asyncio.current_task():
            self._writer.cancel()
        if not self._transport.is_closing():
            if abort:
                self._transport.abort()
            else:
                self._transport.close()

    def _fail(self, exc: BaseException) -> None:
        """End the current exchange with ``exc``: before the head it goes to the requester, after it to the body."""
        if self._head is not None and not self._head.done():
            self._head.set_exception(exc)
        elif self._response is not None:
            if isinstance(exc, UpstreamError):
                error = exc
            else:
                error = UpstreamError(f"{self._upstream.address}: request body failed: {exc!r}")
                error.__cause__ = exc
            self._response._finish(error)
        self._response = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass  # not fatal: the connection works, only with Nagle's delays

    def data_received(self, data: bytes) -> None:
        if self._transport.is_closing():
            return  # failed and closing; the rest is of no use
        if not self._busy:
            # Nothing was asked: an instance talking out of turn cannot be trusted with the next request.
            self.close()
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except HttpParserError as exc:
            self._fail(UpstreamError(f"{self._upstream.address}: malformed response: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # no half-open connections: close, and connection_lost sorts out the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._upstream._forget(self)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if self._response is not None and self._until_close and exc is None:
            self._end_message()  # a body without length ends with the connection
        elif self._head is not None and not self._head.done() and not self._got_bytes:
            self._head.set_exception(_Gone())
        else:
            reason = f"connection lost ({exc})" if exc else "connection closed"
            self._fail(UpstreamError(f"{self._upstream.address}: {reason} before the response was complete"))
        self.close()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._headers = []
        self._connection_tokens = b""
        self._chunked = False
        self._has_length = False

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in _HOP_BY_HOP:
            if name == b"connection":
                self._connection_tokens += b"," + value.lower()
            elif name == b"transfer-encoding":
                self._chunked = True  # llhttp itself rejects codings that do not end in chunked
            return
        if name == b"content-length":
            self._has_length = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        status = parser.get_status_code()
        if status < 200:
            self._interim = True  # 100 Continue, 103 Early Hints: the real response follows
            return
        if self._head is None or self._head.done():
            return  # the exchange already failed (its body iterator raised)
        headers = self._headers
        keep_alive = parser.get_http_version() == "1.1"
        if self._connection_tokens:
            tokens = {token.strip() for token in self._connection_tokens.split(b",")}
            keep_alive = keep_alive and b"close" not in tokens
            named = tokens - {b"", b"close", b"keep-alive"}
            if named:  # headers the instance declared hop-by-hop for this connection only
                headers = [header for header in headers if header[0] not in named]
        has_body = not self._is_head and status != 204 and status != 304
        self._until_close = has_body and not self._chunked and not self._has_length
        self._keep_alive = keep_alive and not self._until_close
        self._response = response = Response(status, headers, self)
        self._head.set_result(response)
        if self._is_head:
            # httptools cannot be told a HEAD response has no body (llhttp's skip-body
            # return is not exposed), so this parser would wait for content-length bytes
            # that never come: finish here and parse the next response with a new one.
            self._parser = HttpResponseParser(self)
            self._end_message()

    def on_body(self, body: bytes) -> None:
        response = self._response
        if response is None:
            return
        response._feed(body)
        if response._buffered > _HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._response is not None:
            self._end_message()

    def _end_message(self) -> None:
        response = self._response
        assert response is not None
        self._response = None
        response._finish()
        if self._reading_paused:
            # The buffered body now belongs to the response alone; the connection reads on.
            self._reading_paused = False
            if not self._closed:
                self._transport.resume_reading()
        if self._keep_alive and self._request_sent and not self._closed:
            self._busy = False
            self._head = None
            self._writer = None
            self._upstream._release(self)
        else:
            # A response that completes before the request body has been sent means the
            # instance is done with this request; the rest of the body has nowhere to go.
            self.close()


class Upstream:
    """Keep-alive connections to one instance."""

    def __init__(self, host: str, port: int, idle_timeout: float = 1.5) -> None:
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.address = f"{host}:{port}"
        self._authority = self.address.encode("ascii")
        self._idle: list[_Connection] = []  # most recently used last
        self._connections: set[_Connection] = set()
        self._closed = False

    def __repr__(self) -> str:
        idle = len(self._idle)
        return f"<Upstream {self.address} [{len(self._connections) - idle} busy, {idle} idle]>"

    async def request(
        self,
        method: str,
        target: str | bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | AsyncIterator[bytes],
    ) -> Response:
        if self._closed:
            raise UpstreamError(f"{self.address}: upstream closed")
        length = len(body) if isinstance(body, bytes) else None
        head = _encode_head(method, target, headers, self._authority, length)
        is_head = method == "HEAD"
        conn = self._checkout()
        if conn is not None:
            try:
                return await conn.exchange(head, body, is_head)
            except _Gone:
                # The instance closed this idle connection as we picked it up; a bytes
                # body can be sent again, a consumed iterator cannot.
                if not isinstance(body, bytes) or self._closed:
                    raise UpstreamError(f"{self.address}: connection closed before the response") from None
        conn = await self._connect()
        try:
            return await conn.exchange(head, body, is_head)
        except _Gone:
            raise UpstreamError(f"{self.address}: connection closed before the response") from None

    def close(self) -> None:
        self._closed = True
        self._idle.clear()
        for conn in list(self._connections):
            conn.abort()

    def _checkout(self) -> _Connection | None:
        idle = self._idle
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self.idle_timeout and conn.is_usable():
                return conn
            # The stack is oldest-first, so everything under a stale one is stale too.
            conn.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: _Connection(self, loop), self.host, self.port)
        except OSError as exc:
            raise UpstreamError(f"{self.address}: cannot connect: {exc}") from exc
        if self._closed:
            conn.close()
            raise UpstreamError(f"{self.address}: upstream closed")
        self._connections.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        if self._closed:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    def _forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)


def _encode_head(
    method: str,
    target: str | bytes,
    headers: list[tuple[bytes, bytes]],
    authority: bytes,
    length: int | None,
) -> bytes:
    """The request line and headers; ``length`` is the bytes body's size, None for a chunked body."""
    if isinstance(target, str):
        target = target.encode("latin-1")
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    has_host = False
    dropped: set[bytes] | None = None
    for name, value in headers:
        key = name.lower()
        if key in _HOP_BY_HOP or key == b"content-length":
            if key == b"connection":
                dropped = (dropped or set()) | {token.strip() for token in value.lower().split(b",")}
            continue
        if key == b"host":
            has_host = True
        parts += (name, b": ", value, b"\r\n")
    if dropped:
        # Headers the client named in Connection were for its hop only (RFC 9110 §7.6.1).
        parts = parts[:4]
        for name, value in headers:
            key = name.lower()
            if key in _HOP_BY_HOP or key == b"content-length" or key in dropped:
                continue
            parts += (name, b": ", value, b"\r\n")
    if not has_host:
        parts += (b"host: ", authority, b"\r\n")
    if length is None:
        parts.append(b"transfer-encoding: chunked\r\n\r\n")
    elif length or method not in _BODILESS_METHODS:
        parts += (b"content-length: ", b"%d" % length, b"\r\n\r\n")
    else:
        parts.append(b"\r\n")
    return b"".join(parts)
